#include "core/http_client.hpp"

#include <stdexcept>

#include "core/net.hpp"

namespace stratus::core {

ClientResponse http_call(const std::string& host, unsigned short port, const std::string& method,
                         const std::string& target, const std::string& body,
                         const std::vector<std::pair<std::string, std::string>>& headers) {
    net::io_context ioc;
    tcp::resolver resolver(ioc);
    beast::tcp_stream stream(ioc);
    beast::error_code ec;
    auto results = resolver.resolve(host, std::to_string(port), ec);
    if (!ec) stream.connect(results, ec);
    if (ec) throw std::runtime_error("cannot reach stratus at " + host + ":" + std::to_string(port) + ": " + ec.message());
    http::request<http::string_body> req{http::string_to_verb(method), target, 11};
    req.set(http::field::host, host + ":" + std::to_string(port));
    req.set(http::field::user_agent, "stratus-cli");
    for (auto& [name, value] : headers) req.set(name, value);
    req.body() = body;
    req.prepare_payload();
    http::write(stream, req);
    beast::flat_buffer buffer;
    http::response<http::string_body> res;
    http::read(stream, buffer, res);
    stream.socket().shutdown(tcp::socket::shutdown_both, ec);
    ClientResponse out{static_cast<int>(res.result_int()), std::move(res.body()), {}};
    for (auto& field : res) out.headers.emplace_back(std::string(field.name_string()), std::string(field.value()));
    return out;
}

}  // namespace stratus::core
