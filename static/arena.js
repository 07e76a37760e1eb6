// The arena page: send a prompt, stream two anonymous answers side by side, vote, reveal.
//
// Safety rules this file keeps:
// - streamed text is only ever added as text nodes; innerHTML is set solely from the `html`
//   field of a `done` event, which the server has rendered and sanitised;
// - names of the models exist only in the vote's response, so nothing here can leak them early.

import { highlightAll } from "./highlight.js";

const root = document.getElementById("arena");
const api = root.dataset.api;
const maxChars = Number(root.dataset.maxChars);
const maxTurns = Number(root.dataset.maxTurns);
const siteRoot = root.dataset.root || "";
const leaderboardUrl = root.dataset.leaderboardUrl || `${siteRoot}/leaderboard#{slug}`;

const el = {
  form: document.getElementById("prompt-form"),
  prompt: document.getElementById("prompt"),
  send: document.getElementById("send"),
  consent: document.getElementById("release-consent"),
  counter: document.getElementById("prompt-counter"),
  status: document.getElementById("status"),
  error: document.getElementById("error"),
  votePanel: document.getElementById("vote-panel"),
  voteButtons: [...document.querySelectorAll("#vote-panel button.vote")],
  feedback: document.getElementById("feedback"),
  feedbackBox: document.getElementById("feedback-box"),
  result: document.getElementById("result"),
  newRound: document.getElementById("new-round"),
  retry: document.getElementById("retry"),
  stop: document.getElementById("stop"),
  share: document.getElementById("share"),
  voteBar: document.getElementById("vote-bar"),
};
const sides = {
  a: {
    box: document.getElementById("side-a"),
    conversation: document.getElementById("conversation-a"),
    reveal: document.getElementById("reveal-a"),
    anchor: null,
  },
  b: {
    box: document.getElementById("side-b"),
    conversation: document.getElementById("conversation-b"),
    reveal: document.getElementById("reveal-b"),
    anchor: null,
  },
};
const placeholders = {
  start: el.prompt.placeholder,
  continue: el.prompt.dataset.placeholderContinue,
  limit: el.prompt.dataset.placeholderLimit,
};
const VOTE_LABELS = {
  model_a: "👈 A is better",
  model_b: "👉 B is better",
  tie: "🤝 Tie",
  both_bad: "👎 Both are bad",
};

// phase: "idle" (no battle yet) → "sending" → "streaming" → "ready" → "voting" → "voted",
// or "failed" from any of them.
const state = {
  phase: "idle", battleId: null, source: null, answers: {}, turn: 0, lastError: null,
  // The last prompt sent, kept so a failed or stopped round can be retried with it.
  lastPrompt: null,
  // Whether the current battle was created with "Share my prompts" on (share links need it).
  battleConsent: false,
};

class ApiError extends Error {
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

async function callApi(method, path, body) {
  let response;
  try {
    response = await fetch(api + path, {
      method,
      headers: { "Content-Type": "application/json", Accept: "application/json" },
      body: body === undefined ? undefined : JSON.stringify(body),
      credentials: "same-origin",
    });
  } catch {
    throw new ApiError(0, "network", "The server could not be reached. Check your connection and try again.");
  }
  let payload = null;
  try {
    payload = await response.json();
  } catch {
    payload = null;
  }
  if (!response.ok) {
    const error = payload && payload.error;
    throw new ApiError(
      response.status,
      (error && error.code) || "http_error",
      (error && error.message) || `The server answered with an error (HTTP ${response.status}). Please try again.`,
    );
  }
  return payload;
}

// --- prompt box ---------------------------------------------------------------------------

function promptLength() {
  // Code points, as the server counts them (an emoji is one character, not two).
  return [...el.prompt.value].length;
}

function updateCounter() {
  const length = promptLength();
  const over = length > maxChars;
  el.counter.textContent = `${length.toLocaleString("en")} / ${maxChars.toLocaleString("en")}` +
    (over ? " · too long" : "");
  el.counter.classList.toggle("over", over);
  updateSendButton();
}

function atTurnLimit() {
  return state.battleId !== null && state.turn >= maxTurns;
}

function updateSendButton() {
  const busy = ["sending", "streaming", "voting"].includes(state.phase);
  const closed = ["voted", "failed"].includes(state.phase) || atTurnLimit();
  el.send.disabled = busy || closed || el.prompt.value.trim() === "";
  el.prompt.disabled = closed;
  el.form.classList.toggle("busy", busy);
}

function setPhase(phase) {
  state.phase = phase;
  root.dataset.phase = phase;
  if (atTurnLimit()) el.prompt.placeholder = placeholders.limit;
  else if (state.battleId && phase === "ready") el.prompt.placeholder = placeholders.continue;
  else el.prompt.placeholder = placeholders.start;
  el.votePanel.hidden = !["ready", "voting", "voted"].includes(phase);
  for (const button of el.voteButtons) button.disabled = phase !== "ready";
  el.feedback.disabled = phase !== "ready";
  el.feedbackBox.hidden = phase === "voted";
  el.newRound.hidden = !["voted", "failed"].includes(phase) && el.error.hidden;
  el.form.hidden = ["voted", "failed"].includes(phase);
  const busy = ["sending", "streaming"].includes(phase);
  el.stop.hidden = !busy;
  el.retry.hidden = !(phase === "failed" && state.lastPrompt);
  updateSendButton();
}

function setStatus(text) {
  el.status.textContent = text;
}

function showError(message) {
  el.error.textContent = message;
  el.error.hidden = false;
  el.newRound.hidden = false;
}

function clearError() {
  el.error.textContent = "";
  el.error.hidden = true;
}

// The battle's own URL: reloading it resumes the round instead of losing it.
function setUrl(path) {
  if (window.location.pathname !== path) window.history.replaceState(null, "", path);
}

// --- conversation columns -----------------------------------------------------------------

// While a turn streams, its column keeps scrolling until the new prompt reaches the top, so
// the answer is read from its start as it grows. Any scrolling by the person stops this.
function keepTurnInView(side) {
  if (side.anchor) side.conversation.scrollTop = side.anchor.offsetTop - 8;
}

for (const side of Object.values(sides)) {
  for (const type of ["wheel", "touchstart", "keydown", "mousedown"]) {
    side.conversation.addEventListener(type, () => { side.anchor = null; }, { passive: true });
  }
}

function addTurn(prompt, promptHtml) {
  state.turn += 1;
  for (const [name, side] of Object.entries(sides)) {
    side.conversation.querySelector(".placeholder")?.remove();
    const turn = document.createElement("article");
    turn.className = "turn";
    turn.dataset.turn = String(state.turn);

    const question = document.createElement("div");
    question.className = "turn-prompt";
    // The person's prompt is rendered like the answers: `prompt_html` is rendered and
    // sanitised by the server; without it the prompt is shown as plain text.
    if (typeof promptHtml === "string") {
      question.classList.add("rendered");
      question.innerHTML = promptHtml;
      highlightAll(question);
    } else {
      question.textContent = prompt;
    }

    const answer = document.createElement("div");
    answer.className = "answer streaming";
    answer.dataset.side = name;
    const typing = document.createElement("span");
    typing.className = "typing";
    typing.setAttribute("aria-hidden", "true");
    answer.append(typing);

    turn.append(question, answer);
    side.conversation.append(turn);
    side.conversation.setAttribute("aria-busy", "true");
    side.anchor = turn;
    keepTurnInView(side);
    state.answers[name] = { element: answer, text: "", done: false };
  }
}

function appendDelta(name, text) {
  const answer = state.answers[name];
  if (!answer || answer.done || typeof text !== "string") return;
  answer.element.querySelector(".typing")?.remove();
  answer.text += text;
  answer.element.append(document.createTextNode(text));
  keepTurnInView(sides[name]);
}

// Ends a side's streaming state once; returns the answer element, or null if already ended.
function settle(name, outcome) {
  const answer = state.answers[name];
  if (!answer || answer.done) return null;
  answer.done = true;
  answer.element.classList.replace("streaming", outcome);
  answer.element.querySelector(".typing")?.remove();
  sides[name].conversation.setAttribute("aria-busy", "false");
  return answer.element;
}

function note(className, text) {
  const paragraph = document.createElement("p");
  paragraph.className = className;
  paragraph.textContent = text;
  return paragraph;
}

function finishAnswer(name, data) {
  const element = settle(name, "rendered");
  if (!element) return;
  // `html` is rendered and sanitised by the server; raw streamed text never reaches innerHTML.
  element.innerHTML = typeof data.html === "string" ? data.html : "";
  highlightAll(element);
  addCodeCopyButtons(element);
  if (data.finish_reason === "length") {
    element.append(note("answer-note muted", "(The answer reached its length limit and was cut short.)"));
  }
  const text = typeof data.text === "string" ? data.text : state.answers[name].text;
  const actions = document.createElement("div");
  actions.className = "answer-actions";
  actions.append(copyButton(() => text, `Copy model ${name.toUpperCase()}'s answer`, "Copy"));
  element.after(actions);
  keepTurnInView(sides[name]);
}

// --- copying ------------------------------------------------------------------------------

async function copyText(text) {
  try {
    await navigator.clipboard.writeText(text);
    return true;
  } catch {
    // Clipboard API refused (permissions, insecure origin): the old selection route.
    const area = document.createElement("textarea");
    area.value = text;
    area.setAttribute("readonly", "");
    area.className = "visually-hidden";
    document.body.append(area);
    area.select();
    const ok = document.execCommand("copy");
    area.remove();
    return ok;
  }
}

function copyButton(getText, label, text) {
  const button = document.createElement("button");
  button.type = "button";
  button.className = "copy";
  button.textContent = text;
  button.setAttribute("aria-label", label);
  button.addEventListener("click", async () => {
    const ok = await copyText(getText());
    button.textContent = ok ? "Copied ✓" : "Copy failed";
    setTimeout(() => { button.textContent = text; }, 1500);
  });
  return button;
}

function addCodeCopyButtons(element) {
  for (const pre of element.querySelectorAll("pre")) {
    const code = pre.querySelector("code") || pre;
    pre.classList.add("has-copy");
    pre.append(copyButton(() => code.textContent, "Copy code", "Copy code"));
  }
}

function failAnswer(name, message) {
  const element = settle(name, "failed");
  if (element) element.append(note("answer-error", `No complete answer: ${message}`));
}

function clearColumns() {
  for (const [name, side] of Object.entries(sides)) {
    side.conversation.replaceChildren();
    side.conversation.append(note("placeholder muted", `Model ${name.toUpperCase()}'s answer will appear here.`));
    side.conversation.setAttribute("aria-busy", "false");
    side.anchor = null;
    side.reveal.replaceChildren();
    side.reveal.hidden = true;
    side.box.classList.remove("winner", "loser", "tie");
  }
}

// --- streaming ----------------------------------------------------------------------------

function parse(event) {
  try {
    return JSON.parse(event.data);
  } catch {
    return null;
  }
}

function stream(url) {
  closeStream();
  const source = new EventSource(url);
  state.source = source;
  setPhase("streaming");
  setStatus("Both models are answering…");

  source.addEventListener("delta", (event) => {
    const data = parse(event);
    if (data) appendDelta(data.side, data.text);
  });
  source.addEventListener("done", (event) => {
    const data = parse(event);
    if (!data) return;
    finishAnswer(data.side, data);
    const pending = Object.values(state.answers).filter((answer) => !answer.done).length;
    if (pending) setStatus("One answer is complete; waiting for the other…");
  });
  source.addEventListener("error", (event) => {
    if (event.data === undefined) {
      // Not a server `error` event: the connection itself dropped.
      if (state.source === source) connectionLost(source);
      return;
    }
    const data = parse(event) || {};
    const message = data.message || "A model failed to answer.";
    if (data.side === "a" || data.side === "b") {
      failAnswer(data.side, message);
    } else {
      for (const name of Object.keys(sides)) failAnswer(name, message);
    }
    state.lastError = message;
  });
  source.addEventListener("end", (event) => {
    closeStream();
    const data = parse(event) || {};
    finishRound(data.state, data.flagged === true);
  });
}

function closeStream() {
  if (state.source) {
    state.source.close();
    state.source = null;
  }
}

async function connectionLost(source) {
  // EventSource would reconnect on its own and could replay a finished stream; ask instead.
  source.close();
  state.source = null;
  try {
    const battle = await callApi("GET", `/battles/${encodeURIComponent(state.battleId)}`);
    if (battle && battle.state === "ready" && Array.isArray(battle.turns)) {
      const last = battle.turns[battle.turns.length - 1];
      for (const name of Object.keys(sides)) {
        const answer = last && last[name];
        if (answer && typeof answer.html === "string") finishAnswer(name, answer);
      }
      finishRound("ready", Boolean(battle.flagged));
      return;
    }
  } catch {
    // Reported below like any other lost connection.
  }
  for (const name of Object.keys(sides)) failAnswer(name, "the connection was lost.");
  finishRound("failed", false, "The connection to the server was lost before both answers arrived.");
}

function finishRound(battleState, flagged, message) {
  for (const side of Object.values(sides)) side.conversation.setAttribute("aria-busy", "false");
  if (battleState === "ready") {
    for (const name of Object.keys(sides)) failAnswer(name, "the answer stopped unexpectedly.");
    setPhase("ready");
    setStatus(flagged
      ? "An answer revealed who wrote it, so this battle will not count. You can still vote or start a new round."
      : "Both answers are in. Which one is better? Vote, or ask a follow-up to both.");
    // The vote bar, not the follow-up box, gets the focus (so A/B/T/N vote at once), and it
    // is brought into view in case the dock is not pinned (a very short window).
    el.voteBar.scrollIntoView({ block: "nearest" });
    el.voteBar.focus({ preventScroll: true });
    return;
  }
  for (const name of Object.keys(sides)) failAnswer(name, "the round was stopped.");
  setPhase("failed");
  setStatus("");
  showError(message || state.lastError
    ? `This round failed: ${message || state.lastError} Retry with the same prompt, or start a new round.`
    : "This round failed. Retry with the same prompt, or start a new round.");
  (state.lastPrompt ? el.retry : el.newRound).focus();
}

// --- actions ------------------------------------------------------------------------------

async function submitPrompt() {
  const prompt = el.prompt.value;
  if (prompt.trim() === "" || !["idle", "ready"].includes(state.phase)) return;
  const continuing = state.phase === "ready" && state.battleId !== null;
  const previous = state.phase;
  clearError();
  state.lastPrompt = prompt;
  setPhase("sending");
  setStatus("Sending your prompt…");
  let battle;
  try {
    battle = continuing
      ? await callApi("POST", `/battles/${encodeURIComponent(state.battleId)}/turns`, { prompt })
      : await callApi("POST", "/battles", newBattleBody(prompt));
  } catch (error) {
    // The prompt stays in the box so the person can shorten it or retry.
    setPhase(previous);
    setStatus("");
    showError(error.message);
    return;
  }
  // Stopped while the prompt was on its way: the battle is never streamed (nobody claims it,
  // so the server's reaper closes it); the prompt stays for Retry.
  if (state.phase !== "sending") return;
  if (!continuing) state.battleConsent = el.consent.checked;
  state.battleId = battle.id;
  state.lastError = null;
  setUrl(`${siteRoot}/b/${encodeURIComponent(battle.id)}`);
  el.prompt.value = "";
  updateCounter();
  addTurn(prompt, battle.prompt_html);
  stream(battle.stream_url);
}

// The box shows the stored choice; it is sent only when the person changed it, so a page
// loaded before a consent was given on /privacy (another tab) cannot silently revoke it.
function newBattleBody(prompt) {
  const body = { prompt };
  if (String(el.consent.checked) !== el.consent.dataset.stored) {
    body.release_consent = el.consent.checked;
    el.consent.dataset.stored = String(el.consent.checked);
  }
  return body;
}

async function vote(winner) {
  if (state.phase !== "ready") return;
  setPhase("voting");
  setStatus("Saving your vote…");
  const body = { winner };
  const feedback = el.feedback.value.trim();
  if (feedback) body.feedback = feedback;
  let outcome;
  try {
    outcome = await callApi("POST", `/battles/${encodeURIComponent(state.battleId)}/vote`, body);
  } catch (error) {
    setPhase("ready");
    setStatus("");
    showError(error.message);
    return;
  }
  for (const button of el.voteButtons) {
    button.classList.toggle("chosen", button.dataset.winner === outcome.winner);
    button.setAttribute("aria-pressed", String(button.dataset.winner === outcome.winner));
  }
  reveal("a", outcome.a, outcome.winner);
  reveal("b", outcome.b, outcome.winner);
  clearError();
  setPhase("voted");
  el.result.replaceChildren();
  const label = document.createElement("strong");
  label.textContent = VOTE_LABELS[outcome.winner] || outcome.winner;
  el.result.append("Your vote: ", label, ` · Model A was ${outcome.a.name}, model B was ${outcome.b.name}.`);
  el.result.hidden = false;
  showShareLink();
  setStatus("Thanks for voting! Start a new round to keep going.");
  el.newRound.focus();
  showFacts(outcome);
}

// Per-side facts (tokens, time to first token, total time) exist only after the vote: from
// the vote's response when it carries them, otherwise from the voted battle's state.
function factsFrom(source, name) {
  const side = source && (source[name] || (source.facts && source.facts[name]));
  const facts = side && (side.facts || side);
  if (!facts) return null;
  const tokens = facts.tokens ?? facts.completion_tokens;
  const first = facts.first_token_ms ?? facts.ttft_ms;
  const total = facts.latency_ms ?? facts.total_ms;
  if (tokens == null && first == null && total == null) return null;
  return { tokens, first, total };
}

async function showFacts(outcome) {
  let source = outcome;
  if (!factsFrom(source, "a")) {
    try {
      source = await callApi("GET", `/battles/${encodeURIComponent(state.battleId)}`);
    } catch {
      return; // The facts are a bonus; the vote is already saved and shown.
    }
  }
  for (const name of Object.keys(sides)) {
    const facts = factsFrom(source, name);
    if (!facts) continue;
    const seconds = (ms) => (ms == null ? "–" : `${(ms / 1000).toFixed(2)} s`);
    const list = document.createElement("dl");
    list.className = "facts";
    for (const [term, value] of [["Tokens", facts.tokens ?? "–"],
      ["First token", seconds(facts.first)], ["Total time", seconds(facts.total)]]) {
      const dt = document.createElement("dt");
      dt.textContent = term;
      const dd = document.createElement("dd");
      dd.textContent = String(value);
      list.append(dt, dd);
    }
    sides[name].reveal.querySelector(".facts")?.remove();
    sides[name].reveal.append(list);
  }
}

function showShareLink() {
  el.share.replaceChildren();
  if (!state.battleConsent) {
    el.share.append("Share links exist for battles sent with “Share my prompts” ticked.");
  } else {
    const url = new URL(`${siteRoot}/b/${encodeURIComponent(state.battleId)}`, window.location.href).href;
    const link = document.createElement("a");
    link.href = url;
    link.id = "share-link";
    link.textContent = "Link to this battle";
    el.share.append("Share the revealed conversation: ", link, " ",
      copyButton(() => url, "Copy the link to this battle", "Copy link"));
  }
  el.share.hidden = false;
}

function contenderUrl(name) {
  const slug = name.toLowerCase().replace(/[^a-z0-9]+/g, "-").replace(/^-|-$/g, "");
  return leaderboardUrl.replace("{slug}", encodeURIComponent(slug))
    .replace("{name}", encodeURIComponent(name));
}

function reveal(name, contender, winner) {
  const side = sides[name];
  // A released model links to its leaderboard entry; an unreleased one stays a plain label.
  const title = document.createElement(contender.public === false ? "span" : "a");
  title.className = "reveal-name";
  title.textContent = contender.name;
  if (contender.public !== false) title.href = contenderUrl(contender.name);
  const details = document.createElement("span");
  details.className = "reveal-meta";
  details.textContent = [contender.organization, contender.license].filter(Boolean).join(" · ");
  side.reveal.replaceChildren(title, details);
  side.reveal.hidden = false;
  const won = winner === `model_${name}`;
  side.box.classList.toggle("winner", won);
  side.box.classList.toggle("loser", winner === "both_bad" || (winner.startsWith("model_") && !won));
  side.box.classList.toggle("tie", winner === "tie");
}

function newRound() {
  closeStream();
  state.battleId = null;
  state.answers = {};
  state.turn = 0;
  state.lastError = null;
  state.battleConsent = false;
  clearColumns();
  clearError();
  setUrl(`${siteRoot}/`);
  el.feedback.value = "";
  el.share.hidden = true;
  el.share.replaceChildren();
  el.result.hidden = true;
  el.result.replaceChildren();
  for (const button of el.voteButtons) {
    button.classList.remove("chosen");
    button.removeAttribute("aria-pressed");
  }
  setPhase("idle");
  setStatus("");
  el.newRound.hidden = true;
  el.prompt.focus();
}

el.form.addEventListener("submit", (event) => {
  event.preventDefault();
  submitPrompt();
});
el.prompt.addEventListener("keydown", (event) => {
  if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
    event.preventDefault();
    if (!el.send.disabled) el.form.requestSubmit();
  }
});
el.prompt.addEventListener("input", updateCounter);
for (const button of el.voteButtons) {
  button.addEventListener("click", () => vote(button.dataset.winner));
}
el.newRound.addEventListener("click", newRound);
el.retry.addEventListener("click", retry);
el.stop.addEventListener("click", stopRound);

// Stop: the stream is closed, which ends generation on the server (the battle cannot be voted
// on with half answers); the prompt is kept for a retry.
function stopRound() {
  if (!["sending", "streaming"].includes(state.phase)) return;
  closeStream();
  for (const name of Object.keys(sides)) failAnswer(name, "you stopped this round.");
  finishRound("failed", false, "You stopped it.");
}

// Retry: a new battle with the failed round's last prompt (a failed battle cannot continue).
function retry() {
  const prompt = state.lastPrompt;
  if (!prompt) return;
  newRound();
  el.prompt.value = prompt;
  updateCounter();
  submitPrompt();
}

// Keyboard shortcuts for the four votes, unless the person is typing somewhere.
const SHORTCUTS = { a: "model_a", b: "model_b", t: "tie", n: "both_bad" };
document.addEventListener("keydown", (event) => {
  if (event.ctrlKey || event.metaKey || event.altKey || event.isComposing) return;
  const target = event.target;
  if (target instanceof HTMLElement &&
      (target.isContentEditable || ["INPUT", "TEXTAREA", "SELECT"].includes(target.tagName))) return;
  const winner = SHORTCUTS[event.key.toLowerCase()];
  if (winner && state.phase === "ready") {
    event.preventDefault();
    vote(winner);
  }
});

// Leaving mid-round: the browser asks first (a stream cut off abandons the battle; an unvoted
// battle can be resumed from its URL, but only by coming back).
window.addEventListener("beforeunload", (event) => {
  const unfinished = ["sending", "streaming", "voting"].includes(state.phase) ||
    (state.phase === "ready" && state.battleId !== null);
  if (unfinished) {
    event.preventDefault();
    event.returnValue = "";
  }
});

// A battle URL (/b/<id>) reloaded or reopened: show the conversation so far and carry on.
async function resume(battleId) {
  state.battleId = battleId;
  setPhase("sending");
  setStatus("Loading your battle…");
  let battle;
  try {
    battle = await callApi("GET", `/battles/${encodeURIComponent(battleId)}`);
  } catch (error) {
    state.battleId = null;
    setPhase("idle");
    setStatus("");
    showError(error.message);
    setUrl(`${siteRoot}/`);
    return;
  }
  clearColumns();
  const turns = Array.isArray(battle.turns) ? battle.turns : [];
  for (const turn of turns) {
    addTurn(turn.prompt, turn.prompt_html);
    state.lastPrompt = turn.prompt;
    for (const name of Object.keys(sides)) {
      const answer = turn[name];
      if (answer && typeof answer.html === "string") finishAnswer(name, answer);
    }
  }
  state.battleConsent = el.consent.checked;
  if (battle.state === "ready") {
    finishRound("ready", Boolean(battle.flagged));
  } else if (battle.state === "pending" || battle.state === "generating") {
    // Pending: this request generates. Generating: the server replays or takes over a
    // generator that went away, or says it is busy (then the round ends as failed, with Retry).
    stream(`${api}/battles/${encodeURIComponent(battleId)}/stream`);
  } else {
    for (const name of Object.keys(sides)) failAnswer(name, "the round was interrupted.");
    finishRound("failed", false, "It was interrupted before both answers arrived.");
  }
}

setPhase("idle");
updateCounter();
if (root.dataset.battleId) resume(root.dataset.battleId);
root.dataset.ready = "true";
