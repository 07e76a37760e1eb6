// Image and audio arenas: one prompt, two outputs shown together, a view/listen gate, a vote.
// No inline script (CSP); the page carries no contender identity.
const root = document.getElementById("media-arena");
const api = root.dataset.api;
const arena = root.dataset.arena;
const kind = root.dataset.kind;
const gateS = Number(root.dataset.gateS || 0);
const $ = (id) => document.getElementById(id);
const voteBar = $("vote-bar");
const buttons = [...voteBar.querySelectorAll("button")];
let battleId = null;
let gateTimer = null;
const played = { a: 0, b: 0 };
const needed = { a: gateS, b: gateS };

function status(text) { $("status").textContent = text; }
function showError(message) { const e = $("error"); e.textContent = message; e.hidden = !message; }

function resetSides() {
  for (const side of ["a", "b"]) {
    const out = $(`output-${side}`);
    out.replaceChildren();
    const p = document.createElement("p");
    p.className = "placeholder muted";
    p.textContent = "Generating…";
    out.append(p);
    const reveal = $(`reveal-${side}`);
    reveal.hidden = true;
    reveal.textContent = "";
    played[side] = 0;
  }
  buttons.forEach((b) => { b.disabled = true; });
  voteBar.hidden = true;
  $("result").hidden = true;
  showError("");
}

function gateOpen() {
  return played.a >= needed.a && played.b >= needed.b;
}

function updateGate() {
  if (battleId === null) return;
  if (gateOpen()) {
    buttons.forEach((b) => { b.disabled = false; });
    status("Now vote: which one is better?");
    if (gateTimer) { clearInterval(gateTimer); gateTimer = null; }
  } else if (kind === "audio") {
    const left = ["a", "b"].map((s) => Math.max(0, needed[s] - played[s]).toFixed(0));
    status(`Listen to both clips to vote (A: ${left[0]} s left, B: ${left[1]} s left).`);
  } else {
    const left = Math.max(0, needed.a - played.a).toFixed(0);
    status(`Look at both pictures; voting opens in ${left} s.`);
  }
}

function renderImage(side, url) {
  const img = document.createElement("img");
  img.src = url;
  img.alt = `Model ${side.toUpperCase()}'s picture`;
  img.className = "media-image";
  img.tabIndex = 0;
  const zoom = () => img.classList.toggle("zoomed");
  img.addEventListener("click", zoom);
  img.addEventListener("keydown", (e) => { if (e.key === "Enter" || e.key === " ") { e.preventDefault(); zoom(); } });
  return img;
}

function renderAudio(side, url) {
  const audio = document.createElement("audio");
  audio.controls = true;
  audio.preload = "auto";
  audio.src = url;
  audio.volume = 1.0; // the server normalised both clips to the same loudness
  audio.dataset.side = side;
  let last = null;
  audio.addEventListener("loadedmetadata", () => {
    // A clip shorter than the gate counts as heard once played to its end.
    needed[side] = Math.min(gateS, Math.max(0, audio.duration - 0.25));
    updateGate();
  });
  audio.addEventListener("play", () => { last = audio.currentTime; });
  audio.addEventListener("timeupdate", () => {
    if (last !== null && !audio.paused) {
      const step = audio.currentTime - last;
      // Only real playback counts: seeking forward jumps more than a tick.
      if (step > 0 && step < 1.0) played[side] += step;
    }
    last = audio.currentTime;
    updateGate();
  });
  audio.addEventListener("ended", () => { played[side] = Math.max(played[side], needed[side]); last = null; updateGate(); });
  audio.addEventListener("seeking", () => { last = null; });
  return audio;
}

function showBoth(outputs) {
  for (const side of ["a", "b"]) {
    const out = $(`output-${side}`);
    out.replaceChildren(kind === "image" ? renderImage(side, outputs[side]) : renderAudio(side, outputs[side]));
  }
  voteBar.hidden = false;
  if (kind === "image") {
    const started = Date.now();
    gateTimer = setInterval(() => {
      played.a = played.b = (Date.now() - started) / 1000;
      updateGate();
    }, 250);
  }
  updateGate();
}

async function start(prompt) {
  resetSides();
  $("send").disabled = true;
  status("Both models are working…");
  const created = await fetch(`${api}/battles`, {
    method: "POST", headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ prompt, arena }),
  });
  const body = await created.json();
  if (!created.ok) {
    showError(body.error ? body.error.message : "Could not start a battle.");
    $("send").disabled = false;
    status("");
    return;
  }
  battleId = body.id;
  const outputs = {};
  const source = new EventSource(body.stream_url);
  source.addEventListener("done", (e) => { const d = JSON.parse(e.data); outputs[d.side] = d.media_url; });
  source.addEventListener("error", (e) => {
    if (e.data) { const d = JSON.parse(e.data); showError(d.message); }
  });
  source.addEventListener("end", (e) => {
    source.close();
    const d = JSON.parse(e.data);
    if (d.state === "ready" && outputs.a && outputs.b) {
      showBoth(outputs);
    } else {
      battleId = null;
      status("");
      $("new-round").hidden = false;
      if ($("error").hidden) showError("This round failed. Please start a new one.");
    }
  });
}

async function vote(winner) {
  if (!gateOpen()) return; // the buttons are disabled too; this guards keyboard races
  buttons.forEach((b) => { b.disabled = true; });
  const response = await fetch(`${api}/battles/${battleId}/vote`, {
    method: "POST", headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ winner }),
  });
  const body = await response.json();
  if (!response.ok) { showError(body.error ? body.error.message : "Vote failed."); return; }
  for (const side of ["a", "b"]) {
    const who = body[side] || (body.reveal && body.reveal[side]);
    const reveal = $(`reveal-${side}`);
    reveal.textContent = who ? `${who.name}${who.organization ? " · " + who.organization : ""}` : "";
    reveal.hidden = false;
  }
  const result = $("result");
  result.textContent = "Thanks! Your vote was recorded.";
  result.hidden = false;
  status("");
  battleId = null;
  voteBar.hidden = true;
  $("new-round").hidden = false;
}

$("composer").addEventListener("submit", (e) => {
  e.preventDefault();
  const prompt = $("prompt").value.trim();
  if (prompt) start(prompt);
});
$("new-round").addEventListener("click", () => {
  $("new-round").hidden = true;
  $("send").disabled = false;
  resetSides();
  status("");
  $("prompt").focus();
});
buttons.forEach((b) => b.addEventListener("click", () => vote(b.dataset.winner)));
