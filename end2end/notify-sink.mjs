// The far ends of notifications, for the server's tests: a real SMTP server (npm smtp-server)
// and an HTTP endpoint standing where an SMS gateway would. Each message taken is printed on
// stdout as one JSON line; nothing is stored.
//
//   node notify-sink.mjs <smtp port> <http port>
import { SMTPServer } from "smtp-server";
import http from "node:http";

const [smtpPort, httpPort] = process.argv.slice(2).map(Number);
const print = (record) => process.stdout.write(`${JSON.stringify(record)}\n`);

const smtp = new SMTPServer({
  authOptional: true,
  disabledCommands: ["STARTTLS", "AUTH"],
  logger: false,
  onData(stream, session, done) {
    const chunks = [];
    stream.on("data", (chunk) => chunks.push(chunk));
    stream.on("end", () => {
      print({
        kind: "email",
        from: session.envelope.mailFrom && session.envelope.mailFrom.address,
        to: session.envelope.rcptTo.map((r) => r.address),
        data: Buffer.concat(chunks).toString("utf8"),
      });
      done();
    });
  },
});

const gateway = http.createServer((request, response) => {
  const chunks = [];
  request.on("data", (chunk) => chunks.push(chunk));
  request.on("end", () => {
    print({
      kind: "sms",
      path: request.url,
      authorization: request.headers.authorization || null,
      contentType: request.headers["content-type"] || null,
      body: Buffer.concat(chunks).toString("utf8"),
    });
    response.writeHead(202, { "content-type": "application/json" });
    response.end('{"accepted":true}');
  });
});

let listening = 0;
const ready = () => {
  listening += 1;
  if (listening === 2) print({ kind: "listening" });
};
smtp.listen(smtpPort, "127.0.0.1", ready);
gateway.listen(httpPort, "127.0.0.1", ready);
