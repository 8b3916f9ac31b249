// Live updates through Inrupt's notifications SDK, discovering everything by itself: it
// is given a resource's URL only, no endpoint (as apps use it).
// Usage: node notifications_check.mjs ISSUER CLIENT_ID CLIENT_SECRET TOPIC  -> one JSON line.
import { Session } from "@inrupt/solid-client-authn-node";
import { WebsocketNotification } from "@inrupt/solid-client-notifications";

const [issuer, clientId, clientSecret, topic] = process.argv.slice(2);
const session = new Session();
await session.login({ oidcIssuer: issuer, clientId, clientSecret });
const fetch = session.fetch;
const result = { loggedIn: session.info.isLoggedIn };

const put = async (text) =>
  (await fetch(topic, { method: "PUT", headers: { "Content-Type": "text/turtle" }, body: text }))
    .status;
result.created = await put("<#it> <#count> 0.");

const socket = new WebsocketNotification(topic, { fetch });
const message = new Promise((resolve, reject) => {
  const timer = setTimeout(() => reject(new Error("no notification within 20 s")), 20000);
  socket.on("message", (notification) => {
    clearTimeout(timer);
    resolve(notification);
  });
  socket.on("error", (error) => reject(new Error(`websocket error: ${error.message ?? error}`)));
});
const connected = new Promise((resolve) => socket.on("connected", resolve));
await socket.connect(); // no endpoint: the SDK finds the gateway from /.well-known/solid
await connected;
result.gateway = socket.gateway;
result.updated = await put("<#it> <#count> 1.");
result.notification = await message;
socket.disconnect();
await session.logout();
console.log(JSON.stringify(result));
