// The page kit's one script (docs/pages.md), shared by every mode's pages. htmx renders everything on
// the server; this script adds what htmx cannot do under the strict CSP (no hx-on, no eval):
//  - streams a turn: a composer form[data-turn-url] POSTs {...data-turn-body, message, client_message_id}
//    and reads the SSE reply (fetch + ReadableStream: EventSource cannot POST), resuming with
//    Last-Event-ID after a dropped connection;
//  - keeps the typed text until the server has stored the turn (cleared on "done" only; a resend of the
//    same text reuses its client_message_id, so the server never stores it twice);
//  - refreshes an expired access token (refresh cookie) and retries once, for turns and htmx requests;
//  - a turn answered 503 server_busy (the service is at capacity) shows 「ただいま混雑しています」 with a
//    countdown and sends again by itself after Retry-After, a bounded number of times; the text stays in
//    the box (same client_message_id) and nothing else is lost;
//  - moves focus after each action: to [data-autofocus] in content swapped in by a user's action, to the
//    composer after a streamed reply;
//  - announces each completed reply once in #reply-live (a streamed one on "done", one rendered by the
//    server when its view carries data-announce), and 「返答を作成中…」 in #turn-status.
// Every piece of user or model text goes through textContent, never innerHTML.
"use strict";

(function () {
  const $ = (id) => document.getElementById(id);
  const REFRESH_URL = "/api/v2/auth/refresh";
  const SIGN_IN_URL = "/api/v2/auth/start?next=";
  const state = { busy: false, pending: null, refreshing: null };
  // A turn refused as busy is sent again this many times at most (each after the server's Retry-After).
  const BUSY_RETRIES = 4;
  const BUSY_WAIT_MAX_S = 30;

  function csrf() {
    const meta = document.querySelector('meta[name="csrf-token"]')?.content || "";
    const cookie = document.cookie.split("; ").find((c) => c.startsWith("wr_csrf="));
    return cookie ? decodeURIComponent(cookie.slice(8)) : meta;
  }

  function newId() {
    if (window.crypto && crypto.randomUUID) return crypto.randomUUID();
    return String(Date.now()) + "-" + Math.random().toString(16).slice(2);
  }

  // ---- sign-in: refresh the access token once, else go through the sign-in redirect -----------------
  function refreshAccess() {
    if (!state.refreshing) {
      state.refreshing = fetch(REFRESH_URL, {
        method: "POST", credentials: "same-origin", headers: { "X-CSRF-Token": csrf() },
      }).then((r) => r.ok, () => false).finally(() => { state.refreshing = null; });
    }
    return state.refreshing;
  }

  async function fetchSignedIn(url, init) {
    const response = await fetch(url, init);
    if (response.status !== 401 || !(await refreshAccess())) return response;
    init.headers["X-CSRF-Token"] = csrf();
    return fetch(url, init);
  }

  // The refresh token is gone too: say so, and let the learner choose when to leave the page (whatever
  // they typed stays in the box, and in this tab's draft store).
  function signInAgain() {
    const box = $("page-alert");
    if (!box) { window.location.assign(SIGN_IN_URL + encodeURIComponent(window.location.pathname)); return; }
    const card = document.createElement("div");
    card.className = "card error-card";
    card.setAttribute("role", "alert");
    const text = document.createElement("p");
    text.textContent = "ログインの有効期限が切れました。入力中の文は残っています。";
    const link = document.createElement("a");
    link.className = "button";
    link.href = SIGN_IN_URL + encodeURIComponent(window.location.pathname);
    link.textContent = "ログインし直す";
    card.append(text, link);
    box.replaceChildren(card);
  }

  // The sign-in redirect comes back with ?signed_in=1: the address bar keeps the page's own URL.
  const here = new URL(window.location.href);
  if (here.searchParams.has("signed_in")) {
    here.searchParams.delete("signed_in");
    window.history.replaceState(window.history.state, "", here.pathname + here.search + here.hash);
  }

  // ---- focus and announcements ------------------------------------------------------------------------
  function focusOn(el) {
    if (!el) return;
    if (!el.matches("a[href], button, input, select, textarea, [tabindex]")) el.setAttribute("tabindex", "-1");
    el.focus();
  }

  function announce(text) {
    const region = $("reply-live");
    if (!region) return;
    region.textContent = "";
    // A fresh text node a moment later, so a reply equal to the previous one is still spoken.
    window.setTimeout(() => { region.textContent = text; }, 50);
  }

  function turnStatus(text) {
    const box = $("turn-status");
    if (box) box.textContent = text;
  }

  function showStatus(text, isError) {
    const box = $("status");
    if (!box) return;
    box.textContent = text || "";
    box.classList.toggle("error", !!isError);
    box.hidden = !text;
  }

  // ---- the message list and the coaching card ---------------------------------------------------------
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
    li.scrollIntoView({ block: "nearest" });
    return li;
  }

  function showCoach(form, a) {
    const coach = $("coach");
    if (!a || !coach || form.closest("[data-coaching]")?.dataset.coaching === "off") return;
    const fit = { good: "言葉づかい◎", too_casual: "少しくだけすぎ", too_formal: "少し硬め" }[a.politeness_fit] || "";
    $("coach-badge").textContent = [a.emotion, fit, a.simple_mode ? "簡易モード" : ""].filter(Boolean).join("・");
    $("coach-advice").textContent = a.advice || "";
    $("coach-phrasing").textContent = a.better_phrasing || "";
    $("coach-phrasing").hidden = !a.better_phrasing;
    coach.hidden = false;
  }

  // ---- the streamed turn ------------------------------------------------------------------------------
  async function errorMessage(response) {
    try {
      const body = await response.json();
      if (body && body.error && body.error.message) return body.error.message;
    } catch (e) { /* not JSON */ }
    if (response.status === 401) return "ログインの有効期限が切れました。入力した文はそのまま残っています。ページを再読み込みしてください。";
    return "通信エラーが発生しました（" + response.status + "）。入力した文はそのまま残っています。もう一度お試しください。";
  }

  // A 503 server_busy: how long the server asks us to wait (seconds), else null (any other answer).
  async function busyWait(response) {
    if (response.status !== 503) return null;
    let body = null;
    try { body = await response.clone().json(); } catch (e) { return null; }
    if (!body || !body.error || body.error.code !== "server_busy") return null;
    const asked = parseInt(response.headers.get("Retry-After") || String(body.error.retry_after || ""), 10);
    return Math.min(BUSY_WAIT_MAX_S, Math.max(1, Number.isFinite(asked) ? asked : 2));
  }

  // Says once in #status (a polite live region) that the turn will go again, and counts down beside it in
  // a span screen readers skip (a number spoken every second would drown the page).
  function waitBusy(seconds, round) {
    const box = $("status");
    const count = document.createElement("span");
    count.className = "countdown";
    count.setAttribute("aria-hidden", "true");
    if (box) {
      box.replaceChildren(document.createTextNode("ただいま混雑しています。" + seconds + "秒後に自動でもう一度送信します（" +
        round + "/" + BUSY_RETRIES + "回目）。入力した文はそのまま残っています。"), count);
      box.classList.remove("error"); // a wait, not a mistake: the plain (amber) notice
      box.hidden = false;
    }
    turnStatus("混雑のため待っています…");
    return new Promise((resolve) => {
      let left = seconds;
      const tick = () => {
        if (left <= 0) { resolve(); return; }
        count.textContent = " あと" + left + "秒";
        left -= 1;
        window.setTimeout(tick, 1000);
      };
      tick();
    });
  }

  // Reads "event:/id:/data:" blocks from a streamed body and calls onEvent(name, data).
  async function readEvents(response, onEvent, seen) {
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
        let name = "message", data = "";
        for (const line of block.split("\n")) {
          if (line.startsWith(":")) continue;
          const colon = line.indexOf(":");
          const field = colon < 0 ? line : line.slice(0, colon);
          const val = colon < 0 ? "" : line.slice(colon + 1).replace(/^ /, "");
          if (field === "event") name = val;
          else if (field === "data") data += val;
          else if (field === "id") seen.lastEventId = val;
        }
        if (data) onEvent(name, JSON.parse(data));
      }
    }
  }

  function draftKey(form) {
    return "kit-draft:" + form.dataset.turnUrl + ":" + form.dataset.turnBody;
  }

  function setBusy(form, busy) {
    state.busy = busy;
    form.querySelector("textarea").readOnly = busy;
    for (const button of document.querySelectorAll("#send, .actions [data-turn-lock]")) button.disabled = busy;
    turnStatus(busy ? "返答を作成中…" : "");
  }

  async function streamTurn(form) {
    const box = form.querySelector("textarea");
    const text = box.value; // kept exactly as typed: newlines are part of the message
    if (!text.trim() || state.busy) return;
    if (!state.pending || state.pending.text !== text) state.pending = { text: text, id: newId() };
    const payload = Object.assign(JSON.parse(form.dataset.turnBody || "{}"), {
      message: text, client_message_id: state.pending.id,
    });
    const speaker = form.closest("[data-speaker]")?.dataset.speaker || "相手";
    setBusy(form, true);
    showStatus("");
    const mine = addLine("learner", text);
    mine.classList.add("unsent");
    const seen = { lastEventId: null };
    let bubble = null, reply = "", finished = false, stored = false;
    const onEvent = (name, data) => {
      if (name === "token") {
        if (!bubble) bubble = addLine("counterpart", "", speaker);
        reply += data.text;
        bubble.querySelector(".text").textContent = reply;
      } else if (name === "analysis") {
        showCoach(form, data);
      } else if (name === "done") {
        finished = stored = true;
        if (!bubble) bubble = addLine("counterpart", data.text || "", speaker);
        if (data.text) bubble.querySelector(".text").textContent = data.text;
        if (data.status === "partial") bubble.classList.add("partial");
        if (data.reply_message_id) bubble.dataset.messageId = data.reply_message_id; // static/rating.js rates it
        showStatus([data.notice, data.nudge].filter(Boolean).join(" "));
        announce(speaker + "：" + (data.text || reply));
      } else if (name === "error") {
        finished = true;
        if (bubble) bubble.classList.add("partial");
        showStatus(data.message || "エラーが発生しました。", true);
      }
    };
    const headers = { "Content-Type": "application/json", Accept: "text/event-stream", "X-CSRF-Token": csrf() };
    let busyRounds = 0;
    for (let attempt = 0; attempt < 3 && !finished; attempt++) {
      try {
        const response = await fetchSignedIn(form.dataset.turnUrl, {
          method: "POST", headers: headers, body: JSON.stringify(payload), credentials: "same-origin",
        });
        const wait = await busyWait(response);
        if (wait !== null && busyRounds < BUSY_RETRIES) {
          // Refused before the server did anything: the same turn (same id) goes again after the wait.
          busyRounds += 1;
          await waitBusy(wait, busyRounds);
          showStatus("");
          turnStatus("返答を作成中…");
          attempt -= 1; // a busy answer is not one of the resume attempts
          continue;
        }
        if (wait !== null) {
          showStatus("混雑が続いています。入力した文はそのまま残っています。しばらくしてから、もう一度送信してください。", true);
          break;
        }
        if (!response.ok) {
          showStatus(await errorMessage(response), true);
          if (response.status === 401) signInAgain();
          break;
        }
        mine.classList.remove("unsent"); // the server took the turn
        await readEvents(response, onEvent, seen);
      } catch (e) {
        if (!seen.lastEventId) { showStatus("通信が切れました。入力した文はそのまま残っています。もう一度送信してください。", true); break; }
      }
      // The connection dropped mid-reply: resume from the last event we saw.
      if (seen.lastEventId) headers["Last-Event-ID"] = seen.lastEventId;
    }
    setBusy(form, false);
    if (stored) {
      box.value = "";
      state.pending = null;
      window.sessionStorage.removeItem(draftKey(form));
    } else if (!bubble) {
      mine.remove(); // nothing was stored: the text is still in the box, ready to send again
    }
    const active = document.activeElement;
    if (!active || active === document.body || form.contains(active)) box.focus();
    if ((stored || bubble) && form.dataset.afterTurn && window.htmx) window.htmx.trigger(document.body, form.dataset.afterTurn);
  }

  document.addEventListener("submit", (e) => {
    const form = e.target;
    if (!form.matches("form[data-turn-url]")) return;
    e.preventDefault();
    streamTurn(form);
  });
  document.addEventListener("keydown", (e) => {
    const form = e.target.closest && e.target.closest("form[data-turn-url]");
    if (form && e.target.tagName === "TEXTAREA" && e.key === "Enter" && (e.ctrlKey || e.metaKey)) {
      e.preventDefault();
      form.requestSubmit();
    }
  });
  // A draft survives a reload (a sign-in redirect, a crash): kept per conversation for this tab.
  document.addEventListener("input", (e) => {
    const form = e.target.closest && e.target.closest("form[data-turn-url]");
    if (form) window.sessionStorage.setItem(draftKey(form), e.target.value);
  });
  function restoreDraft(root) {
    const form = root.querySelector && root.querySelector("form[data-turn-url]");
    const box = form && form.querySelector("textarea");
    if (box && !box.value) box.value = window.sessionStorage.getItem(draftKey(form)) || "";
  }
  document.addEventListener("DOMContentLoaded", () => restoreDraft(document));

  // ---- htmx: errors, expired sign-ins, focus after swaps ----------------------------------------------
  // Requests are told apart by their requestConfig (htmx passes the same object to every event of one
  // request); only those a person started (a trusted click, submit or key) move focus when they land.
  const retried = new WeakSet(); // source elements whose request is being retried after a refresh
  const wantsFocus = new WeakSet(); // requestConfigs
  const refocusRetry = new WeakSet(); // source elements whose retry should move focus
  document.addEventListener("htmx:beforeRequest", (e) => {
    const box = $("page-alert");
    if (box) box.textContent = "";
    const cfg = e.detail.requestConfig;
    if (!cfg) return;
    const cause = cfg.triggeringEvent;
    if ((cause && cause.isTrusted) || refocusRetry.has(cfg.elt)) wantsFocus.add(cfg);
    refocusRetry.delete(cfg.elt);
  });
  document.addEventListener("htmx:beforeOnLoad", (e) => {
    const { xhr, requestConfig, target } = e.detail;
    const source = requestConfig.elt;
    if (xhr.status !== 401) { retried.delete(source); return; }
    e.preventDefault(); // not htmx's HX-Redirect to the fragment's own URL: refresh, then retry once
    if (retried.has(source)) { retried.delete(source); signInAgain(); return; }
    refreshAccess().then((ok) => {
      if (!ok) { signInAgain(); return; }
      retried.add(source);
      if (wantsFocus.has(requestConfig)) refocusRetry.add(source);
      window.htmx.ajax(requestConfig.verb.toUpperCase(), requestConfig.path, {
        source: source, target: target, headers: { "X-CSRF-Token": csrf() },
      });
    });
  });
  document.addEventListener("htmx:afterSettle", (e) => {
    const target = e.detail.target;
    if (!target || !target.isConnected) return;
    restoreDraft(target);
    // A view that arrives with a finished reply (a conversation's opening line) announces it once.
    const fresh = target.querySelector("[data-announce]");
    if (fresh) { announce(fresh.dataset.announce); fresh.removeAttribute("data-announce"); }
    if (!wantsFocus.has(e.detail.requestConfig)) return;
    wantsFocus.delete(e.detail.requestConfig);
    focusOn(target.matches("[data-autofocus]") ? target : target.querySelector("[data-autofocus]"));
  });
  document.addEventListener("htmx:sendError", () => {
    const box = $("page-alert");
    if (box) box.textContent = "通信エラーが発生しました。接続を確認して、もう一度お試しください。";
  });

  window.PageKit = { streamTurn: streamTurn, announce: announce, focusOn: focusOn, refreshAccess: refreshAccess };
})();
