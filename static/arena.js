// The arena page: send a prompt, stream two anonymous answers side by side, vote, reveal.
//
// Safety rules this file keeps:
// - streamed text is only ever added as text nodes; innerHTML is set solely from the `html`
//   field of a `done` event, which the server has rendered and sanitised;
// - names of the models exist only in the vote's response, so nothing here can leak them early.

const root = document.getElementById("arena");
const api = root.dataset.api;
const maxChars = Number(root.dataset.maxChars);
const maxTurns = Number(root.dataset.maxTurns);

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
const state = { phase: "idle", battleId: null, source: null, answers: {}, turn: 0, lastError: null };

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

function addTurn(prompt) {
  state.turn += 1;
  for (const [name, side] of Object.entries(sides)) {
    side.conversation.querySelector(".placeholder")?.remove();
    const turn = document.createElement("article");
    turn.className = "turn";
    turn.dataset.turn = String(state.turn);

    const question = document.createElement("div");
    question.className = "turn-prompt";
    question.textContent = prompt;

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
  if (data.finish_reason === "length") {
    element.append(note("answer-note muted", "(The answer reached its length limit and was cut short.)"));
  }
  keepTurnInView(sides[name]);
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
    el.prompt.focus();
    return;
  }
  for (const name of Object.keys(sides)) failAnswer(name, "the round was stopped.");
  setPhase("failed");
  setStatus("");
  showError(message || state.lastError
    ? `This round failed: ${message || state.lastError} Please start a new round.`
    : "This round failed. Please start a new round.");
  el.newRound.focus();
}

// --- actions ------------------------------------------------------------------------------

async function submitPrompt() {
  const prompt = el.prompt.value;
  if (prompt.trim() === "" || !["idle", "ready"].includes(state.phase)) return;
  const continuing = state.phase === "ready" && state.battleId !== null;
  const previous = state.phase;
  clearError();
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
  state.battleId = battle.id;
  state.lastError = null;
  el.prompt.value = "";
  updateCounter();
  addTurn(prompt);
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
  setStatus("Thanks for voting! Start a new round to keep going.");
  el.newRound.focus();
}

function reveal(name, contender, winner) {
  const side = sides[name];
  const title = document.createElement("span");
  title.className = "reveal-name";
  title.textContent = contender.name;
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
  clearColumns();
  clearError();
  el.feedback.value = "";
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

setPhase("idle");
updateCounter();
root.dataset.ready = "true";
