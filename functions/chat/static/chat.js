// The /chat page: streams the partner's reply over SSE (fetch + ReadableStream, POST body),
// shows one sparse coaching card, and asks for summaries and feedback. Every piece of user or
// model text goes through textContent, never innerHTML.
"use strict";

(function () {
  const $ = (id) => document.getElementById(id);
  const csrf = document.querySelector('meta[name="csrf-token"]')?.content || "";
  const state = { conversationId: null, busy: false, lastEventId: null, coaching: true };

  function headers(extra) {
    return Object.assign({ "Content-Type": "application/json", "X-CSRF-Token": csrf }, extra || {});
  }

  function newId() {
    if (window.crypto && crypto.randomUUID) return crypto.randomUUID();
    return String(Date.now()) + "-" + Math.random().toString(16).slice(2);
  }

  function showStatus(text, isError) {
    const box = $("status");
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
    for (const id of ["send", "summary-button", "feedback-button"]) $(id).disabled = busy;
  }

  function showCoach(a) {
    if (!state.coaching || !a) return;
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
    if (learnerText !== null) addLine("learner", learnerText);
    let bubble = null;
    let text = "";
    let finished = false;
    const onEvent = (name, data) => {
      if (name === "start") {
        state.conversationId = data.conversation_id;
      } else if (name === "token") {
        if (!bubble) bubble = addLine("counterpart", "", "相手");
        text += data.text;
        bubble.querySelector(".text").textContent = text;
      } else if (name === "analysis") {
        showCoach(data);
      } else if (name === "done") {
        finished = true;
        if (!bubble) bubble = addLine("counterpart", data.text || "", "相手");
        if (data.text) bubble.querySelector(".text").textContent = data.text;
        if (data.status === "partial") bubble.classList.add("partial");
        const notes = [data.notice, data.nudge].filter(Boolean);
        showStatus(notes.join(" "));
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
  }

  async function start(form) {
    const data = new FormData(form);
    state.coaching = data.get("coaching") === "on";
    $("log").textContent = "";
    $("coach").hidden = true;
    $("review").hidden = true;
    $("setup").hidden = true;
    $("conversation").hidden = false;
    state.conversationId = null;
    await turn({
      partner_type: data.get("partner_type"), situation: data.get("situation"), topic: data.get("topic"),
      coaching: state.coaching,
    }, null);
  }

  async function send() {
    const box = $("message");
    const text = box.value;  // kept exactly as typed: newlines are part of the message
    if (!text.trim() || state.busy || !state.conversationId) return;
    box.value = "";
    await turn({ conversation_id: state.conversationId, message: text, client_message_id: newId() }, text);
  }

  function heading(parent, text, level) {
    const h = document.createElement(level || "h3");
    h.textContent = text;
    parent.appendChild(h);
  }

  function list(parent, items) {
    const ul = document.createElement("ul");
    for (const item of items || []) {
      const li = document.createElement("li");
      li.textContent = item;
      ul.appendChild(li);
    }
    parent.appendChild(ul);
  }

  async function review(kind) {
    if (!state.conversationId || state.busy) return;
    setBusy(true);
    const panel = $("review");
    panel.hidden = false;
    panel.textContent = kind === "summary" ? "要約を作成しています…" : "フィードバックを作成しています…";
    try {
      const response = await fetch("/api/v2/chat/conversations/" + encodeURIComponent(state.conversationId) + "/" + kind, {
        method: "POST", headers: headers({ Accept: "application/json" }), credentials: "same-origin",
      });
      panel.textContent = "";
      if (!response.ok) { panel.textContent = await errorMessage(response); return; }
      const r = await response.json();
      if (r.notice) { const p = document.createElement("p"); p.className = "notice"; p.textContent = r.notice; panel.appendChild(p); }
      if (kind === "summary") {
        heading(panel, "要約");
        const p = document.createElement("p"); p.textContent = r.summary; panel.appendChild(p);
        heading(panel, "ポイント", "h4"); list(panel, r.key_points);
        heading(panel, "学びのポイント", "h4"); list(panel, r.learning_points);
      } else {
        heading(panel, "フィードバック");
        for (const axis of r.axes) {
          const div = document.createElement("div");
          div.className = "axis";
          div.textContent = axis.label + ": " + axis.score + "点";
          for (const c of axis.checks) {
            const p = document.createElement("p");
            p.className = "check";
            p.textContent = (c.passed ? "✓ " : "・ ") + c.question + (c.evidence ? "「" + c.evidence + "」" : "");
            div.appendChild(p);
          }
          panel.appendChild(div);
        }
        heading(panel, "良かった点", "h4"); list(panel, r.strengths);
        heading(panel, "伸ばせる点", "h4"); list(panel, r.growth_points);
        heading(panel, "明日試すこと", "h4"); list(panel, [r.tomorrow_action]);
      }
    } catch (e) {
      panel.textContent = "通信エラーが発生しました。もう一度お試しください。";
    } finally {
      setBusy(false);
    }
  }

  async function open(conversationId) {
    const response = await fetch("/api/v2/chat/conversations/" + encodeURIComponent(conversationId), {
      headers: { Accept: "application/json" }, credentials: "same-origin",
    });
    if (!response.ok) { alert(await errorMessage(response)); return; }
    const detail = await response.json();
    state.conversationId = detail.conversation.id;
    state.coaching = detail.coaching;
    $("log").textContent = "";
    $("coach").hidden = true;
    $("review").hidden = true;
    $("setup").hidden = true;
    $("conversation").hidden = false;
    for (const m of detail.messages) {
      const li = addLine(m.role, m.text, m.role === "counterpart" ? (m.speaker || "相手") : "");
      if (m.status !== "complete") li.classList.add("partial");
    }
    showStatus("");
  }

  document.addEventListener("DOMContentLoaded", () => {
    $("setup-form").addEventListener("submit", (e) => { e.preventDefault(); start(e.target); });
    $("message-form").addEventListener("submit", (e) => { e.preventDefault(); send(); });
    $("message").addEventListener("keydown", (e) => {
      if (e.key === "Enter" && (e.ctrlKey || e.metaKey)) { e.preventDefault(); send(); }
    });
    $("summary-button").addEventListener("click", () => review("summary"));
    $("feedback-button").addEventListener("click", () => review("feedback"));
    $("new-button").addEventListener("click", () => { $("conversation").hidden = true; $("setup").hidden = false; });
    for (const button of document.querySelectorAll("[data-conversation]")) {
      button.addEventListener("click", () => open(button.dataset.conversation));
    }
  });
})();
