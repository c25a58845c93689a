// acontext-mcp dashboard: live refresh of a session's messages, by polling for newer ones.
// The server renders (and escapes) each fragment; this only appends it.
(function () {
  "use strict";
  const list = document.querySelector("ol[data-poll-url]");
  if (!list) return;
  const every = Number(list.dataset.pollMs) || 2000;
  const count = document.getElementById("message-count");
  const tokens = document.getElementById("token-total");

  async function poll() {
    let response;
    try {
      response = await fetch(list.dataset.pollUrl + "?after=" + encodeURIComponent(list.dataset.after),
                             { credentials: "same-origin", cache: "no-store" });
    } catch (error) {
      setTimeout(poll, every * 2); // server restarting: try again later
      return;
    }
    if (!response.ok || response.redirected) return; // signed out or session deleted: stop
    const html = await response.text();
    const after = response.headers.get("X-After");
    if (after) {
      const before = Number(list.dataset.after);
      list.insertAdjacentHTML("beforeend", html);
      list.dataset.after = after;
      if (count) count.textContent = after;
      if (tokens) {
        const added = [...list.querySelectorAll("li[data-seq]")]
          .filter((item) => Number(item.dataset.seq) > before)
          .reduce((sum, item) => sum + Number(item.dataset.tokens), 0);
        tokens.textContent = Number(tokens.textContent) + added;
      }
      const empty = document.getElementById("no-messages");
      if (empty) empty.remove();
    }
    setTimeout(poll, response.headers.get("X-Has-More") === "true" ? 0 : every);
  }

  setTimeout(poll, every);
})();
