// The app's calls: tokens from the issuer (stratus's built-in one offline), the HTTP API
// under /api, the REST API under /rest, uploads straight to S3 with a presigned URL.
const TOKEN_KEY = "todo.token";

export const session = {
  get token() { return localStorage.getItem(TOKEN_KEY); },
  set token(t) { t ? localStorage.setItem(TOKEN_KEY, t) : localStorage.removeItem(TOKEN_KEY); },
  get user() {
    const t = this.token;
    if (!t) return null;
    try {
      const claims = JSON.parse(atob(t.split(".")[1].replace(/-/g, "+").replace(/_/g, "/")));
      if (claims.exp && claims.exp * 1000 < Date.now()) return null;
      return claims.sub;
    } catch { return null; }
  },
};

async function call(method, path, body) {
  const res = await fetch(path, {
    method,
    headers: { authorization: "Bearer " + session.token, ...(body ? { "content-type": "application/json" } : {}) },
    body: body ? JSON.stringify(body) : undefined,
  });
  if (res.status === 401 || res.status === 403) throw Object.assign(new Error("not allowed"), { status: res.status });
  if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${await res.text()}`);
  return res.status === 204 ? null : res.json();
}

// Sign-in: a token for `user` from the issuer's dev sign-in endpoint (POST {issuer}/token).
export async function signIn(user) {
  const config = await (await fetch("/api/config")).json();
  const res = await fetch(config.issuer + "/token", {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ sub: user, aud: config.audience, scope: "todos/read todos/write", ttl: 3600 }),
  });
  if (!res.ok) throw new Error("sign-in failed: " + res.status);
  session.token = (await res.json()).token;
}

export const listTodos = () => call("GET", "/api/todos");
export const createTodo = (title) => call("POST", "/api/todos", { title });
export const updateTodo = (id, patch) => call("PUT", `/api/todos/${encodeURIComponent(id)}`, patch);
export const deleteTodo = (id) => call("DELETE", `/api/todos/${encodeURIComponent(id)}`);
export const stats = () => call("GET", "/api/stats");

export async function attach(id, file) {
  const { url } = await call("POST", `/rest/todos/${encodeURIComponent(id)}/attachment`, { name: file.name, type: file.type });
  const res = await fetch(url, { method: "PUT", headers: { "content-type": file.type || "application/octet-stream" }, body: file });
  if (!res.ok) throw new Error("upload failed: " + res.status);
}
