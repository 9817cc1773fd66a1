// GraphQL over HTTP and graphql-transport-ws, with the session kept in memory.
// Every document sent is the exact text of a file in /console/operations/.

const OPERATIONS = new URL("operations/", document.baseURI);
const REFRESH_KEY = "console.refreshToken";
const channel = "BroadcastChannel" in window ? new BroadcastChannel("console-session") : null;
const texts = new Map();
let skew = 0; // local clock minus the server's (from the Date header): expiry survives a wrong clock

export const session = {
  accessToken: null,
  expiresAt: 0,
  serverExpiresAt: null,
  viewer: null,
  listeners: new Set(),
};

export class SessionEnded extends Error {}

export async function operation(name) {
  if (!texts.has(name)) {
    const response = await fetch(new URL(`${name}.graphql`, OPERATIONS), { cache: "no-cache" });
    if (!response.ok) throw new Error(`无法加载操作 ${name}`);
    texts.set(name, await response.text());
  }
  return texts.get(name);
}

function notify(event) {
  for (const listener of session.listeners) listener(event);
}

function adopt(payload, broadcast) {
  const first = session.accessToken === null;
  session.accessToken = payload.accessToken;
  session.serverExpiresAt = payload.expiresAt;
  session.expiresAt = Date.parse(payload.expiresAt) + skew || Date.now() + 10 * 60 * 1000;
  session.viewer = payload.viewer ?? session.viewer;
  sessionStorage.setItem(REFRESH_KEY, payload.refreshToken);
  scheduleRefresh();
  if (broadcast && channel) {
    channel.postMessage({ type: "tokens", payload: { ...payload, viewer: session.viewer } });
  }
  notify({ type: first ? "signed-in" : "refreshed" });
}

function forget(reason) {
  const was = session.accessToken !== null;
  session.accessToken = null;
  session.expiresAt = 0;
  session.viewer = null;
  sessionStorage.removeItem(REFRESH_KEY);
  clearTimeout(refreshTimer);
  if (was || reason) notify({ type: "signed-out", reason });
}

let refreshTimer = 0;
function scheduleRefresh() {
  clearTimeout(refreshTimer);
  const wait = Math.max(5_000, session.expiresAt - Date.now() - 60_000);
  refreshTimer = setTimeout(() => refresh().catch(() => {}), wait);
}

async function post(name, variables, token) {
  const query = await operation(name);
  const headers = { "content-type": "application/json" };
  if (token) headers.authorization = `Bearer ${token}`;
  const response = await fetch("/graphql", {
    method: "POST",
    headers,
    body: JSON.stringify({ query, variables, operationName: name }),
    credentials: "omit",
  });
  const served = Date.parse(response.headers.get("date") ?? "");
  if (served) skew = Date.now() - served;
  if (!response.ok && response.status !== 400) throw new Error(`服务器返回 ${response.status}`);
  return response.json();
}

function unauthenticated(body) {
  return (body.errors ?? []).some((e) => e.extensions?.code === "UNAUTHENTICATED");
}

// One tab refreshes for all: the Web Locks API serialises tabs; the winner broadcasts.
export async function refresh() {
  const run = async () => {
    if (session.accessToken && session.expiresAt - Date.now() > 90_000) return true;
    const token = sessionStorage.getItem(REFRESH_KEY);
    if (!token) return false;
    const body = await post("ConsoleRefreshSession", { refreshToken: token });
    const payload = body.data?.refreshSession;
    if (!payload || payload.errors.length || !payload.accessToken) {
      forget("登录已失效，请重新登录。");
      return false;
    }
    adopt(payload, true);
    return true;
  };
  return navigator.locks ? navigator.locks.request("console-refresh", run) : run();
}

export async function signIn(name, input) {
  const body = await post(name, { input });
  const field = name === "ConsoleDevLogin" ? "devLogin" : "staffLogin";
  const payload = body.data?.[field];
  if (!payload) return [{ field: "", message: body.errors?.[0]?.message ?? "登录失败" }];
  if (payload.errors.length) return payload.errors;
  if (payload.viewer?.kind !== "STAFF") return [{ field: "", message: "此账号不是审核人员。" }];
  adopt(payload, true);
  return [];
}

export async function signOut() {
  if (session.accessToken) {
    await post("ConsoleLogout", {}, session.accessToken).catch(() => null);
  }
  channel?.postMessage({ type: "logout" });
  forget("您已退出登录。");
}

// A request as the signed-in staff member; refreshes once on UNAUTHENTICATED.
export async function request(name, variables = {}) {
  if (!session.accessToken || session.expiresAt - Date.now() < 30_000) await refresh();
  let body = await post(name, variables, session.accessToken);
  if (unauthenticated(body)) {
    session.expiresAt = 0;
    if (await refresh()) body = await post(name, variables, session.accessToken);
    if (unauthenticated(body)) {
      forget("登录已过期或已在别处退出，请重新登录。");
      throw new SessionEnded("登录已过期");
    }
  }
  if (body.errors?.length) throw new Error(body.errors.map((e) => e.message).join("；"));
  return body.data;
}

// Resume in a new page load: ask another tab, else use the refresh token of this tab.
export async function resume() {
  if (channel) {
    channel.postMessage({ type: "hello" });
    await new Promise((resolve) => setTimeout(resolve, 150));
  }
  if (session.accessToken) return true;
  return refresh();
}

if (channel) {
  channel.onmessage = ({ data }) => {
    if (data.type === "tokens") adopt(data.payload, false);
    else if (data.type === "logout") forget("您已在另一个标签页退出登录。");
    else if (data.type === "hello" && session.accessToken) {
      channel.postMessage({
        type: "tokens",
        payload: {
          accessToken: session.accessToken,
          refreshToken: sessionStorage.getItem(REFRESH_KEY),
          expiresAt: session.serverExpiresAt,
          viewer: session.viewer,
        },
      });
    }
  };
}

// reviewQueueEvents over graphql-transport-ws; the token goes in connection_init.
export function subscribeQueue(onEvent) {
  let socket = null;
  let after = null;
  let stopped = false;
  let retry = 1000;
  const open = async () => {
    if (stopped || !session.accessToken) return;
    const query = await operation("ConsoleQueueEvents");
    const url = new URL("/graphql", location.href);
    url.protocol = location.protocol === "https:" ? "wss:" : "ws:";
    socket = new WebSocket(url, "graphql-transport-ws");
    socket.onopen = () => {
      socket.send(JSON.stringify({
        type: "connection_init",
        payload: { Authorization: `Bearer ${session.accessToken}` },
      }));
    };
    socket.onmessage = ({ data }) => {
      const message = JSON.parse(data);
      if (message.type === "connection_ack") {
        retry = 1000;
        socket.send(JSON.stringify({
          id: "queue", type: "subscribe",
          payload: { query, variables: { after }, operationName: "ConsoleQueueEvents" },
        }));
      } else if (message.type === "next" && message.payload?.data) {
        const event = message.payload.data.reviewQueueEvents;
        after = event.cursor;
        onEvent(event);
      } else if (message.type === "ping") {
        socket.send(JSON.stringify({ type: "pong" }));
      }
    };
    socket.onclose = async (event) => {
      if (stopped) return;
      if (event.code === 4401) await refresh().catch(() => false);
      if (event.code === 4403) return;
      setTimeout(open, retry);
      retry = Math.min(retry * 2, 30_000);
    };
  };
  open();
  return () => {
    stopped = true;
    socket?.close(1000);
  };
}
