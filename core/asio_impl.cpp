// Asio and Beast compiled once for the whole program (BOOST_*_SEPARATE_COMPILATION is set
// project-wide in CMakeLists.txt), so other files include only their headers.
#include <boost/asio/impl/src.hpp>
#include <boost/beast/src.hpp>
