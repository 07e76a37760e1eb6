// Voter gates in the browser: a hashcash proof of work attached to each vote, when enabled.
//
// The server sets data-pow-bits on #arena-gates (0 or absent: off). The puzzle is the battle's
// public id: find a nonce whose SHA-256 of "<battle id>:<nonce>" starts with that many zero
// bits. The vote request is sent unchanged apart from a "pow" field, so arena.js needs no
// change; a vote without a valid proof still counts as a vote, it is only marked.

const gates = document.getElementById("arena-gates");
const bits = gates ? Number.parseInt(gates.dataset.powBits || "0", 10) : 0;
const VOTE_PATH = /\/battles\/([^/]+)\/vote$/;

function leadingZeroBits(bytes) {
  let count = 0;
  for (const byte of bytes) {
    if (byte === 0) {
      count += 8;
      continue;
    }
    return count + Math.clz32(byte) - 24;
  }
  return count;
}

async function solve(challenge, difficulty) {
  const encoder = new TextEncoder();
  for (let nonce = 0; ; nonce += 1) {
    const digest = await crypto.subtle.digest("SHA-256", encoder.encode(`${challenge}:${nonce}`));
    if (leadingZeroBits(new Uint8Array(digest)) >= difficulty) return String(nonce);
  }
}

if (bits > 0 && window.crypto && crypto.subtle) {
  const plainFetch = window.fetch.bind(window);
  window.fetch = async (input, init = {}) => {
    const url = typeof input === "string" ? input : input.url;
    const match = init.method === "POST" && VOTE_PATH.exec(new URL(url, location.href).pathname);
    if (match && typeof init.body === "string") {
      const body = JSON.parse(init.body);
      body.pow = await solve(decodeURIComponent(match[1]), bits);
      init = { ...init, body: JSON.stringify(body) };
    }
    return plainFetch(input, init);
  };
}
