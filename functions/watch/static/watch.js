// The run view of the /watch page (会話観戦): follow a run live on the WebSocket (or the SSE + POST fallback when
// the socket cannot open), play / pause / continue / step / speed, quizzes (on demand too), join in, end.
// The page itself (start form, past runs, reopening, taking over a role, the summary) is server-rendered and
// driven by htmx; this script only carries the live stream. Protocol: docs/watch-protocol.md.
(function () {
  "use strict";
  const API = "/api/v2/watch";
  const SOCKET_PATIENCE_MS = 5000;
  const $ = (id) => document.getElementById(id);
  const run = { id: null, socket: null, source: null, lastId: "", current: null, state: "paused", joined: false,
    ended: false, ping: null, fallback: false, picked: -1, solo: "", role: "", reconnects: 0 };
  let speakers = {};
  let roles = {};

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
    const log = $("watch-log");
    const li = document.createElement("li");
    const role = roles[speaker] || "";
    li.className = speaker === "learner" ? "learner" : "counterpart" + (role ? " speaker-" + role : "");
    li.dataset.at = String(log.querySelectorAll("li[data-at]").length + 1);
    const name = document.createElement("span");
    name.className = "speaker";
    name.textContent = speakers[speaker] || speaker;
    const body = document.createElement("span");
    body.className = "text";
    body.textContent = text || "";
    li.append(name, body);
    log.append(li);
    li.scrollIntoView({ block: "nearest" });
    return body;
  }

  // 「ここから花子さんとして話す」 under a finished character line (htmx posts it; the server opens the new run).
  function offerTakeOver(body, speaker) {
    const role = roles[speaker];
    const li = body.parentElement;
    if (!role || run.role || !li || li.querySelector(".takeover")) return;
    const button = document.createElement("button");
    button.type = "button";
    button.className = "link takeover";
    button.textContent = "ここから" + speaker + "として話す";
    button.setAttribute("hx-post", "/watch/runs/" + run.id + "/takeover");
    button.setAttribute("hx-vals", JSON.stringify({ role: role, at_line: Number(li.dataset.at) }));
    li.append(button);
    if (window.htmx) window.htmx.process(button);
  }

  function finishLine(speaker, text) {
    if (!run.current) run.current = addLine(speaker, "");
    run.current.textContent = text || run.current.textContent;
    announce((speakers[speaker] || speaker || "") + "：" + run.current.textContent);
    offerTakeOver(run.current, speaker);
    run.current = null;
  }

  // ---- events (the same shapes on the socket and the SSE fallback) ------------------------------------
  const handlers = {
    line(data) { run.current = addLine(data.speaker, ""); },
    // A run where the learner plays one character has a cast of one: its lines come without line events.
    token(data) {
      if (!run.current && run.solo) run.current = addLine(run.solo, "");
      if (run.current) run.current.textContent += data.text || "";
    },
    line_done(data) { finishLine(data.speaker, data.text); },
    done(data) { if (run.current) finishLine(run.solo, data.text); },
    quiz(data) { showQuiz(data); },
    quiz_result(data) { showResult(data); },
    takes(data) { loadTakes(data.take_id, true); },
    takes_result(data) { loadTakes(data.take_id, false); },
    state(data) { showState(data); },
    error(data) { showError(data.message || "エラーが発生しました。"); },
  };

  // An error stays until the learner's next action (a state event must not wipe it, e.g. the daily budget's).
  function showError(text) {
    const box = $("run-error");
    box.textContent = text;
    box.hidden = false;
  }

  function clearError() { $("run-error").hidden = true; }

  function dispatch(event, data, id) {
    if (id) run.lastId = id;
    const handle = handlers[event];
    if (handle) handle(data || {});
  }

  const STATE_WORDS = { playing: "再生中", paused: "一時停止中", quiz: "クイズに答えると続きを再生できます",
    budget: "ひと区切りです。「続ける」で続きを聞けます", ended: "観戦を終了しました。" };

  function stateWords(data) {
    if (data.state === "paused" && run.role) return "あなたの番です。" + (speakers.learner || "") + "として話しましょう";
    if (data.state === "paused" && data.take_id) return "一時停止中。2つの例を比べてみましょう";
    return STATE_WORDS[data.state] || data.state;
  }

  function showState(data) {
    run.state = data.state;
    $("watch-run").dataset.state = data.state;
    if (data.state === "ended") { showEnded(); return; }
    if (data.state === "playing") putAwayAnswered();
    const button = $("play-button");
    const playing = data.state === "playing";
    // After the line budget the run needs "continue" (another budget), not "play".
    button.textContent = playing ? "一時停止" : data.state === "budget" ? "続ける" : "再生";
    button.setAttribute("aria-pressed", playing ? "true" : "false");
    say(stateWords(data) + "（" + (data.lines || 0) + "行）");
  }

  // Once the run plays on, an answered quiz or takes card is put away (the review keeps the accuracy).
  function putAwayAnswered() {
    if ($("quiz-result").childElementCount) { $("quiz").hidden = true; $("quiz-result").replaceChildren(); }
    const takes = document.querySelector("#takes .takes-card[data-answered]");
    if (takes) $("takes").replaceChildren();
  }

  // 終了する is final: nothing speaks any more; the review (accuracy, summary) and taking over a role remain.
  function showEnded() {
    run.ended = true;
    $("watch-run").querySelectorAll(".controls button, .join button, .join textarea, #speed")
      .forEach((el) => { el.disabled = true; });
    $("leave-button").hidden = true;
    $("ended-note").hidden = false;
    say(STATE_WORDS.ended);
    document.body.dataset.ended = "true";
    if (run.socket) run.socket.close();
    if (run.source) run.source.close();
    if (run.ending) { run.ending = false; $("review-title").focus(); }
  }

  // ---- good and bad takes: a server-rendered card (htmx), loaded when the live log says they exist --------
  function loadTakes(takeId, asked) {
    const card = document.querySelector("#takes .takes-card");
    if (!takeId || !window.htmx) return;
    if (card && card.dataset.takeId === takeId && (asked || card.dataset.answered === "true")) return;
    window.htmx.ajax("GET", "/watch/runs/" + run.id + "/takes/" + encodeURIComponent(takeId),
      { target: "#takes", swap: "innerHTML" }).then(() => {
      // Focus moves only when this learner asked here (not for another tab's takes or a reconnect).
      if (asked && run.askedTakes && window.PageKit) window.PageKit.focusOn($("takes-title"));
      run.askedTakes = false;
    });
    if (asked) announce("同じ場面の2つの例が届きました。");
  }

  // ---- the quiz card -------------------------------------------------------------------------------
  function choiceButton(choice, index) {
    const button = document.createElement("button");
    button.type = "button";
    button.textContent = choice;
    button.dataset.index = String(index);
    return button;
  }

  function showQuiz(data) {
    const card = $("quiz");
    card.hidden = false;
    card.dataset.quizId = data.quiz_id;
    $("quiz-question").textContent = data.question || "";
    $("quiz-result").textContent = "";
    $("quiz-choices").replaceChildren(...(data.choices || []).map(choiceButton));
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
    const next = document.createElement("p");
    next.className = "muted";
    next.textContent = "「再生」で会話の続きを聞けます。";
    result.append(verdict, why, next);
    countAnswer(Boolean(data.correct));
  }

  function countAnswer(correct) {
    const line = $("accuracy");
    const answered = Number(line.dataset.answered || 0) + 1;
    const right = Number(line.dataset.correct || 0) + (correct ? 1 : 0);
    line.dataset.answered = String(answered);
    line.dataset.correct = String(right);
    line.textContent = "クイズ: " + answered + "問中" + right + "問正解（正答率" + Math.round((right * 100) / answered) + "%）";
  }

  // ---- transport: WebSocket first, SSE + POST when it cannot open -------------------------------------
  function command(message) {
    if (message.type !== "ping") clearError();
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
    document.body.dataset.transport = "ws";
    // A socket that neither opens nor fails (a proxy holding the upgrade) counts as failed after a while.
    const patience = setTimeout(() => { if (!opened) socket.close(); }, SOCKET_PATIENCE_MS);
    socket.addEventListener("open", () => {
      opened = true;
      run.reconnects = 0;
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
      else setTimeout(() => connect(null), Math.min(1000 * 2 ** run.reconnects++, 30000));
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
  function togglePlay() {
    if (run.state === "playing") command({ type: "pause" });
    else if (run.state === "budget") command({ type: "continue" });
    else command({ type: "play" });
  }

  function join(event) {
    event.preventDefault();
    const text = $("join-text").value.trim();
    if (!text) { say("話しかける言葉を入力してください。"); $("join-text").focus(); return; }
    addLine("learner", text);
    $("join-text").value = "";
    command({ type: "join", text: text, client_message_id: newId() });
    if (!run.role) {
      run.joined = true;
      $("leave-button").hidden = false;
    }
  }

  function leave() {
    command({ type: "leave" });
    $("leave-button").hidden = true;
    run.joined = false;
  }

  function stop() {
    run.ending = true;  // the ended state event moves focus to the review
    command({ type: "end" });
  }

  document.addEventListener("DOMContentLoaded", () => {
    const view = $("watch-run");
    if (!view || !view.dataset.runId) return;
    try { speakers = JSON.parse(view.dataset.speakers || "{}"); } catch (e) { speakers = {}; }
    try { roles = JSON.parse(view.dataset.roles || "{}"); } catch (e) { roles = {}; }
    run.id = view.dataset.runId;
    run.lastId = view.dataset.lastEventId || "";
    run.state = view.dataset.state || "paused";
    run.role = view.dataset.learnerRole || "";
    run.solo = view.dataset.solo || "";
    showState({ state: run.state, lines: Number(view.dataset.lines || 0), take_id: view.dataset.takeId });
    $("play-button").addEventListener("click", togglePlay);
    $("step-button").addEventListener("click", () => command({ type: "step" }));
    $("speed").addEventListener("change", () => command({ type: "speed", speed: Number($("speed").value) }));
    $("quiz-button").addEventListener("click", () => command({ type: "quiz" }));
    $("takes-button").addEventListener("click", () => { run.askedTakes = true; say("2つの例を作っています…"); command({ type: "takes" }); });
    $("quiz-choices").addEventListener("click", (event) => {
      const button = event.target.closest("button[data-index]");
      if (button && !button.disabled) answer(Number(button.dataset.index));
    });
    $("join-form").addEventListener("submit", join);
    $("leave-button").addEventListener("click", leave);
    $("stop-button").addEventListener("click", stop);
    const autoplay = view.dataset.autoplay === "true";
    if (autoplay) history.replaceState(null, "", location.pathname);  // a reload reopens, it does not restart
    if (!run.ended) connect(autoplay ? { type: "play" } : null);
  });
})();
