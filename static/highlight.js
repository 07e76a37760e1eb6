// A small syntax highlighter for code blocks in answers (no CDN, no dependency).
//
// It reads each block's text and rebuilds it from text nodes inside <span class="tok-…">, so
// it can never turn answer text into markup. The server strips code-fence language classes,
// so one tokenizer covers the C/Python/JS/shell family: comments, strings, numbers, keywords.

const KEYWORDS = new Set((
  "and as assert async await break case catch class const continue def del do elif else " +
  "enum except export extends false False final finally fn for from func function go if " +
  "impl import in interface is lambda let loop match mod mut new nil None not null or " +
  "package pass private protected pub public raise return self static struct super switch " +
  "this throw true True try type typeof use var void while with yield echo fi then done " +
  "int float str bool char void long double string"
).split(" "));

// One alternation, tried left to right at each position; order matters (comments first).
const TOKEN = new RegExp([
  String.raw`(?<comment>\/\/[^\n]*|#[^\n]*|\/\*[\s\S]*?\*\/)`,
  String.raw`(?<string>"""[\s\S]*?"""|'''[\s\S]*?'''|"(?:\\.|[^"\\\n])*"|'(?:\\.|[^'\\\n])*'|` + "`(?:\\\\.|[^`\\\\])*`)",
  String.raw`(?<number>\b(?:0x[\da-fA-F]+|\d+(?:\.\d+)?(?:e[+-]?\d+)?)\b)`,
  String.raw`(?<word>[A-Za-z_][\w]*)`,
].join("|"), "g");

export function highlight(code) {
  const text = code.textContent;
  const out = document.createDocumentFragment();
  let last = 0;
  for (const match of text.matchAll(TOKEN)) {
    const groups = match.groups;
    let kind = null;
    if (groups.comment !== undefined) kind = "comment";
    else if (groups.string !== undefined) kind = "string";
    else if (groups.number !== undefined) kind = "number";
    else if (KEYWORDS.has(groups.word)) kind = "keyword";
    else if (text[match.index + match[0].length] === "(") kind = "call";
    if (!kind) continue;
    if (match.index > last) out.append(document.createTextNode(text.slice(last, match.index)));
    const span = document.createElement("span");
    span.className = `tok-${kind}`;
    span.textContent = match[0];
    out.append(span);
    last = match.index + match[0].length;
  }
  if (last < text.length) out.append(document.createTextNode(text.slice(last)));
  code.replaceChildren(out);
  code.classList.add("highlighted");
}

export function highlightAll(root) {
  for (const code of root.querySelectorAll("pre > code:not(.highlighted)")) highlight(code);
}
