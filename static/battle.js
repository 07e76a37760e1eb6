// The shared battle page: highlight the code in the server-rendered (sanitised) answers.
import { highlightAll } from "./highlight.js";

highlightAll(document.getElementById("battle"));
