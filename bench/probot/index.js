// The reference: Probot 14.3.2 with one issue_comment.created handler, on Probot's own server.
// bench/intake.py sets APP_ID, PRIVATE_KEY, WEBHOOK_SECRET, HOST, PORT and LOG_LEVEL.
import { run } from "probot";

let seen = 0;

/** @param {import("probot").Probot} app */
function bench(app) {
  app.on("issue_comment.created", async (context) => {
    seen += context.payload.comment ? 1 : 0; // touch the payload; store and call nothing
  });
}

run(bench);
