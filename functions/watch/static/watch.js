// The /watch page (会話観戦): start a run, follow it live on the WebSocket (or the SSE + POST fallback when the
// socket cannot open), play / pause / step / speed, answer quizzes, join in. Protocol: docs/watch-protocol.md.
(function () {
  "use strict";
  const API = "/api/v2/watch";
  const SOCKET_PATIENCE_MS = 5000;
  const $ = (id) => document.getElementById(id);
  const run = { id: null, socket: null, source: null, lastId: "", current: null, playing: false, joined: false,
    ended: false, ping: null, fallback: false, picked: -1 };
  let speakers = {};

  function csrf() {
    const meta = document.querySelector('meta[name="csrf-token"]')?.content || "";
    const cookie = document.cookie.split("; ").find((c) => c.startsWith("wr_csrf="));
    return cookie ? decodeURIComponent(cookie.slice(8)) : meta;
  }

  function newId() {
    if (window.crypto && crypto.randomUUID) return crypto.randomUUID();
    return String(Date.now()) + "-" + Math.random().toString(16).slice(2);
  }

  async function post(url, body) {
    const init = () => ({ method: "POST", credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRF-Token": csrf() }, body: JSON.stringify(body) });
    let response = await fetch(url, init());
    if (response.status === 401 && window.PageKit && (await window.PageKit.refreshAccess())) {
      response = await fetch(url, init());
    }
    return response;
  }

  function say(text) { $("status").textContent = text; }
  function announce(text) { if (window.PageKit) window.PageKit.announce(text); }

  async function problem(response) {
    try { const body = await response.json(); return body.message || body.detail || "エラーが発生しました。"; }
    catch (e) { return "エラーが発生しました。"; }
  }

  // ---- the message list ------------------------------------------------------------------------------
  function addLine(speaker, text) {
    const li = document.createElement("li");
    li.className = speaker === "learner" ? "learner" : "counterpart";
    const name = document.createElement("span");
    name.className = "speaker";
    name.textContent = speakers[speaker] || speaker;
    const body = document.createElement("span");
    body.className = "text";
    body.textContent = text || "";
    li.append(name, body);
    $("watch-log").append(li);
    li.scrollIntoView({ block: "nearest" });
    return body;
  }

  // ---- events (the same shapes on the socket and the SSE fallback) ------------------------------------
  const handlers = {
    line(data) { run.current = addLine(data.speaker, ""); },
    token(data) { if (run.current) run.current.textContent += data.text || ""; },
    line_done(data) {
      if (!run.current) run.current = addLine(data.speaker, "");
      run.current.textContent = data.text || run.current.textContent;
      announce((speakers[data.speaker] || "") + "：" + run.current.textContent);
      run.current = null;
    },
    quiz(data) { showQuiz(data); },
    quiz_result(data) { showResult(data); },
    state(data) { showState(data); },
    error(data) { say(data.message || "エラーが発生しました。"); },
  };

  function dispatch(event, data, id) {
    if (id) run.lastId = id;
    const handle = handlers[event];
    if (handle) handle(data || {});
  }

  function showState(data) {
    run.playing = data.state === "playing";
    const button = $("play-button");
    button.textContent = run.playing ? "一時停止" : "再生";
    button.setAttribute("aria-pressed", run.playing ? "true" : "false");
    const words = { playing: "再生中", paused: "一時停止中", quiz: "クイズに答えると続きます", budget: "ひと区切りです。再生で続きを聞けます" };
    say((words[data.state] || data.state) + "（" + (data.lines || 0) + "行）");
  }

  // ---- the quiz card -------------------------------------------------------------------------------
  function showQuiz(data) {
    const card = $("quiz");
    card.hidden = false;
    card.dataset.quizId = data.quiz_id;
    $("quiz-question").textContent = data.question || "";
    $("quiz-result").textContent = "";
    const choices = $("quiz-choices");
    choices.replaceChildren();
    (data.choices || []).forEach((choice, index) => {
      const button = document.createElement("button");
      button.type = "button";
      button.textContent = choice;
      button.dataset.index = String(index);
      button.addEventListener("click", () => answer(index));
      choices.append(button);
    });
    announce("クイズ：" + (data.question || ""));
  }

  function answer(index) {
    const quizId = $("quiz").dataset.quizId;
    run.picked = index;
    $("quiz-choices").querySelectorAll("button").forEach((b) => { b.disabled = true; });
    command({ type: "answer", quiz_id: quizId, answer: index });
  }

  function showResult(data) {
    const buttons = $("quiz-choices").querySelectorAll("button");
    buttons.forEach((b, i) => {
      b.disabled = true;
      if (i === data.correct_index) b.classList.add("correct");
      else if (i === run.picked && !data.correct) b.classList.add("wrong");
    });
    const result = $("quiz-result");
    result.replaceChildren();
    const verdict = document.createElement("p");
    verdict.className = "verdict";
    verdict.textContent = data.correct ? "正解です！" : "残念、不正解です。";
    const why = document.createElement("p");
    why.textContent = data.explanation || "";
    result.append(verdict, why);
  }

  // ---- transport: WebSocket first, SSE + POST when it cannot open -------------------------------------
  function command(message) {
    if (run.socket && run.socket.readyState === WebSocket.OPEN) { run.socket.send(JSON.stringify(message)); return; }
    post(API + "/conversations/" + run.id + "/commands", message).then(async (response) => {
      if (!response.ok) say(await problem(response));
    }, () => say("通信できませんでした。もう一度お試しください。"));
  }

  function connect(first) {
    const scheme = location.protocol === "https:" ? "wss://" : "ws://";
    const query = run.lastId ? "?last_event_id=" + encodeURIComponent(run.lastId) : "";
    let opened = false;
    let socket;
    try { socket = new WebSocket(scheme + location.host + API + "/ws/" + run.id + query); }
    catch (e) { openFallback(first); return; }
    run.socket = socket;
    // A socket that neither opens nor fails (a proxy holding the upgrade) counts as failed after a while.
    const patience = setTimeout(() => { if (!opened) socket.close(); }, SOCKET_PATIENCE_MS);
    socket.addEventListener("open", () => {
      opened = true;
      clearTimeout(patience);
      run.ping = setInterval(() => command({ type: "ping" }), 30000);
      if (first) command(first);
    });
    socket.addEventListener("message", (event) => {
      let frame;
      try { frame = JSON.parse(event.data); } catch (e) { return; }
      dispatch(frame.event, frame.data, frame.id);
    });
    socket.addEventListener("close", () => {
      clearInterval(run.ping);
      clearTimeout(patience);
      run.socket = null;
      if (run.ended || run.fallback) return;
      if (!opened) openFallback(first);
      else setTimeout(() => connect(null), 1000);
    });
  }

  function openFallback(first) {
    run.fallback = true;
    document.body.dataset.transport = "sse";
    const query = run.lastId ? "?last_event_id=" + encodeURIComponent(run.lastId) : "";
    const source = new EventSource(API + "/conversations/" + run.id + "/events" + query);
    run.source = source;
    Object.keys(handlers).forEach((name) => {
      source.addEventListener(name, (event) => {
        let data = {};
        try { data = JSON.parse(event.data); } catch (e) { /* a heartbeat or an empty event */ }
        dispatch(name, data, event.lastEventId);
      });
    });
    if (first) command(first);
  }

  // ---- the learner's actions ---------------------------------------------------------------------------
  async function start(event) {
    event.preventDefault();
    const button = $("start-button");
    button.disabled = true;
    const body = { situation: $("situation").value, topic: $("topic").value };
    try {
      const response = await post(API + "/conversations", body);
      if (!response.ok) { say(await problem(response)); $("watch-run").hidden = false; return; }
      const created = await response.json();
      run.id = created.id;
      $("watch-setup").hidden = true;
      $("watch-run").hidden = false;
      $("run-title").focus();
      document.body.dataset.transport = "ws";
      connect({ type: "play" });
    } finally {
      button.disabled = false;
    }
  }

  function togglePlay() { command({ type: run.playing ? "pause" : "play" }); }

  function join(event) {
    event.preventDefault();
    const text = $("join-text").value.trim();
    if (!text) { say("話しかける言葉を入力してください。"); $("join-text").focus(); return; }
    addLine("learner", text);
    $("join-text").value = "";
    command({ type: "join", text: text, client_message_id: newId() });
    run.joined = true;
    $("leave-button").hidden = false;
  }

  function leave() {
    command({ type: "leave" });
    $("leave-button").hidden = true;
    run.joined = false;
  }

  function stop() {
    command({ type: "pause" });
    run.ended = true;
    if (run.socket) run.socket.close();
    if (run.source) run.source.close();
    $("watch-run").querySelectorAll(".controls button, .join button, .join textarea, #speed")
      .forEach((el) => { el.disabled = true; });
    say("観戦を終了しました。");
    document.body.dataset.ended = "true";
  }

  document.addEventListener("DOMContentLoaded", () => {
    const view = $("watch-run");
    if (!view) return;
    try { speakers = JSON.parse(view.dataset.speakers || "{}"); } catch (e) { speakers = {}; }
    $("start-form").addEventListener("submit", start);
    $("play-button").addEventListener("click", togglePlay);
    $("step-button").addEventListener("click", () => command({ type: "step" }));
    $("speed").addEventListener("change", () => command({ type: "speed", speed: Number($("speed").value) }));
    $("join-form").addEventListener("submit", join);
    $("leave-button").addEventListener("click", leave);
    $("stop-button").addEventListener("click", stop);
  });
})();
