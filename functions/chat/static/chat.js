// The /chat page's one piece of hand-written script: the streamed turn. htmx renders everything
// else on the server (start form, conversation view, past conversations, summary, feedback, delete);
// this module sends the learner's line, streams the partner's reply over SSE (fetch +
// ReadableStream, because EventSource cannot POST a body) and fills the sparse coaching card.
// It binds by event delegation, so it works on whatever conversation view htmx swapped in.
// Every piece of user or model text goes through textContent, never innerHTML.
"use strict";

(function () {
  const $ = (id) => document.getElementById(id);
  const csrf = document.querySelector('meta[name="csrf-token"]')?.content || "";
  const state = { busy: false, lastEventId: null };

  function view() {
    return $("conversation");
  }

  function headers(extra) {
    return Object.assign({ "Content-Type": "application/json", "X-CSRF-Token": csrf }, extra || {});
  }

  function newId() {
    if (window.crypto && crypto.randomUUID) return crypto.randomUUID();
    return String(Date.now()) + "-" + Math.random().toString(16).slice(2);
  }

  function showStatus(text, isError) {
    const box = $("status");
    if (!box) return;
    if (!text) { box.hidden = true; box.textContent = ""; return; }
    box.textContent = text;
    box.classList.toggle("error", !!isError);
    box.hidden = false;
  }

  function addLine(role, text, speaker) {
    const li = document.createElement("li");
    li.className = role;
    if (speaker) {
      const who = document.createElement("span");
      who.className = "speaker";
      who.textContent = speaker;
      li.appendChild(who);
    }
    const body = document.createElement("span");
    body.className = "text";
    body.textContent = text;
    li.appendChild(body);
    $("log").appendChild(li);
    li.scrollIntoView({ block: "end" });
    return li;
  }

  function setBusy(busy) {
    state.busy = busy;
    for (const id of ["send", "summary-button", "feedback-button"]) {
      const button = $(id);
      if (button) button.disabled = busy;
    }
  }

  function showCoach(a) {
    if (!a || view()?.dataset.coaching !== "on") return;
    const fit = { good: "言葉づかい◎", too_casual: "少しくだけすぎ", too_formal: "少し硬め" }[a.politeness_fit] || "";
    $("coach-badge").textContent = [a.emotion, fit, a.simple_mode ? "簡易モード" : ""].filter(Boolean).join("・");
    $("coach-advice").textContent = a.advice || "";
    $("coach-phrasing").textContent = a.better_phrasing || "";
    $("coach-phrasing").hidden = !a.better_phrasing;
    $("coach").hidden = false;
  }

  async function errorMessage(response) {
    try {
      const body = await response.json();
      if (body && body.error && body.error.message) return body.error.message;
    } catch (e) { /* not JSON */ }
    return "通信エラーが発生しました（" + response.status + "）。もう一度お試しください。";
  }

  // Reads "event:/id:/data:" blocks from a streamed body and calls onEvent(name, data).
  async function readEvents(response, onEvent) {
    const reader = response.body.getReader();
    const decoder = new TextDecoder();
    let buffer = "";
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return;
      buffer += decoder.decode(value, { stream: true }).replace(/\r\n/g, "\n");
      let cut;
      while ((cut = buffer.indexOf("\n\n")) >= 0) {
        const block = buffer.slice(0, cut);
        buffer = buffer.slice(cut + 2);
        let name = "message", data = "", id = null;
        for (const line of block.split("\n")) {
          if (line.startsWith(":")) continue;
          const colon = line.indexOf(":");
          const field = colon < 0 ? line : line.slice(0, colon);
          const val = colon < 0 ? "" : line.slice(colon + 1).replace(/^ /, "");
          if (field === "event") name = val;
          else if (field === "data") data += val;
          else if (field === "id") id = val;
        }
        if (id) state.lastEventId = id;
        if (data) onEvent(name, JSON.parse(data));
      }
    }
  }

  async function turn(payload, learnerText) {
    setBusy(true);
    showStatus("");
    addLine("learner", learnerText);
    const speaker = view()?.dataset.speaker || "相手";
    let bubble = null;
    let text = "";
    let finished = false;
    const onEvent = (name, data) => {
      if (name === "token") {
        if (!bubble) bubble = addLine("counterpart", "", speaker);
        text += data.text;
        bubble.querySelector(".text").textContent = text;
      } else if (name === "analysis") {
        showCoach(data);
      } else if (name === "done") {
        finished = true;
        if (!bubble) bubble = addLine("counterpart", data.text || "", speaker);
        if (data.text) bubble.querySelector(".text").textContent = data.text;
        if (data.status === "partial") bubble.classList.add("partial");
        bubble.dataset.messageId = data.reply_message_id || ""; // static/rating.js adds 👍/👎 to it
        showStatus([data.notice, data.nudge].filter(Boolean).join(" "));
      } else if (name === "error") {
        finished = true;
        if (bubble) bubble.classList.add("partial");
        showStatus(data.message || "エラーが発生しました。", true);
      }
    };
    let extra = { Accept: "text/event-stream" };
    for (let attempt = 0; attempt < 3 && !finished; attempt++) {
      try {
        const response = await fetch("/api/v2/chat", {
          method: "POST", headers: headers(extra), body: JSON.stringify(payload), credentials: "same-origin",
        });
        if (!response.ok) {
          showStatus(await errorMessage(response), true);
          finished = true;
          break;
        }
        await readEvents(response, onEvent);
        if (!finished && state.lastEventId) extra = { Accept: "text/event-stream", "Last-Event-ID": state.lastEventId };
      } catch (e) {
        if (!state.lastEventId) { showStatus("通信が切れました。もう一度送信してください。", true); break; }
        // The connection dropped mid-reply: resume from the last event we saw.
        extra = { Accept: "text/event-stream", "Last-Event-ID": state.lastEventId };
      }
    }
    state.lastEventId = null;
    setBusy(false);
    // The list of past conversations shows titles and turn counts: let htmx reload it.
    if (window.htmx) window.htmx.trigger(document.body, "chat-history-changed");
  }

  async function send() {
    const box = $("message");
    const conversationId = view()?.dataset.conversationId;
    const text = box.value;  // kept exactly as typed: newlines are part of the message
    if (!text.trim() || state.busy || !conversationId) return;
    box.value = "";
    await turn({ conversation_id: conversationId, message: text, client_message_id: newId() }, text);
  }

  document.addEventListener("submit", (e) => {
    if (e.target.id !== "message-form") return;
    e.preventDefault();
    send();
  });
  document.addEventListener("keydown", (e) => {
    if (e.target.id === "message" && e.key === "Enter" && (e.ctrlKey || e.metaKey)) { e.preventDefault(); send(); }
  });
  // An htmx request that succeeds clears the previous error; a failed one has swapped its own in.
  document.addEventListener("htmx:beforeRequest", () => { const box = $("page-alert"); if (box) box.textContent = ""; });
  document.addEventListener("htmx:sendError", () => {
    const box = $("page-alert");
    if (box) box.textContent = "通信エラーが発生しました。接続を確認して、もう一度お試しください。";
  });
})();
