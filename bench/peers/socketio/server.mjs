// The Socket.IO server chat-bench measures next to the chat backend: what people most often
// run instead for realtime chat. It stores nothing. One room per group; a member's "send"
// goes to the other members of its room as an "event" shaped like the native protocol's
// message event (20), and the sender gets an acknowledgement shaped like event 21, so that
// chat-bench reads both servers with the same code.
//
//   PORT=3201 node server.mjs                          one node
//   PORT=3201 REDIS_URL=redis://127.0.0.1:6379 node server.mjs   (and a second PORT) two
//                                                      nodes with @socket.io/redis-adapter
//
// Clients connect with the WebSocket transport only:
//   ws://127.0.0.1:PORT/socket.io/?EIO=4&transport=websocket&room=GROUP
// Heartbeats are every 10 minutes (pingInterval), as chat-bench's readers do not answer them
// while they measure; the native protocol has no heartbeat either.
import { createServer } from "node:http";
import { Server } from "socket.io";

const port = Number(process.env.PORT ?? 3201);
const server = createServer((request, response) => {
  if (request.url === "/healthz") {
    response.writeHead(200, { "content-type": "text/plain" }).end("ok");
  } else {
    response.writeHead(404).end();
  }
});
const io = new Server(server, {
  transports: ["websocket"],
  serveClient: false,
  pingInterval: 600_000,
  pingTimeout: 600_000,
  maxHttpBufferSize: 64 * 1024,
  perMessageDeflate: false,
});

if (process.env.REDIS_URL) {
  const { createClient } = await import("redis");
  const { createAdapter } = await import("@socket.io/redis-adapter");
  const publisher = createClient({ url: process.env.REDIS_URL });
  const subscriber = publisher.duplicate();
  await Promise.all([publisher.connect(), subscriber.connect()]);
  io.adapter(createAdapter(publisher, subscriber, { key: process.env.REDIS_PREFIX ?? "cbpeer" }));
}

io.on("connection", (socket) => {
  const room = String(socket.handshake.query.room ?? "");
  if (room) socket.join(room);
  socket.on("send", (request) => {
    const body = request?.body ?? {};
    if (!room || typeof body.data !== "string") {
      socket.emit("event", { type: 99, body: { code: "bad_request", message: "send needs a room and data" } });
      return;
    }
    const now = Date.now();
    socket.to(room).emit("event", {
      type: 20,
      timestamp: now,
      body: { data: body.data, group_id: room, created_at: now },
    });
    socket.emit("event", {
      type: 21,
      timestamp: now,
      body: { client_message_id: body.client_message_id, group_id: room },
    });
  });
});

server.listen(port, "127.0.0.1", () => {
  console.log(`socket.io peer listening on 127.0.0.1:${port}${process.env.REDIS_URL ? " (redis adapter)" : ""}`);
});
for (const signal of ["SIGTERM", "SIGINT"]) {
  process.on(signal, () => io.close(() => process.exit(0)));
}
