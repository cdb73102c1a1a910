#!/usr/bin/env node
// `make patterns` (part of `make check`): every `pattern` of docs/openapi.json compiles as an ECMA-262 regular
// expression both without the `u` flag (as most JavaScript validators, linters and form libraries compile JSON
// Schema patterns) and with it, and means the same both ways: on every BMP character, on the format characters
// beyond it and their neighbours, on a sample of the others, alone and between letters, and on runs of letters,
// spaces and refused characters at the lengths around each bound. Runs with characters beyond the BMP are compared
// while their UTF-16 length is within the smallest length a pattern counts (`{0,n}`): without `u` such a character
// is two code units, so it counts twice toward that bound — the one difference, written in docs/api.md. Node only,
// no package.
"use strict";

const fs = require("fs");

const file = process.argv[2] || "docs/openapi.json";
const document = JSON.parse(fs.readFileSync(file, "utf8"));

const patterns = new Map(); // pattern → where it was first seen
(function walk(node, path) {
  if (Array.isArray(node)) {
    node.forEach((item, index) => walk(item, `${path}/${index}`));
  } else if (node && typeof node === "object") {
    for (const [key, value] of Object.entries(node)) {
      if (key === "pattern" && typeof value === "string") {
        if (!patterns.has(value)) patterns.set(value, `${path}/pattern`);
      } else {
        walk(value, `${path}/${key}`);
      }
    }
  }
})(document, "#");

// Characters beyond the BMP that the service refuses (Unicode Cf), and their neighbours.
const refusedAstral = [[0x110bd, 0x110bd], [0x110cd, 0x110cd], [0x13430, 0x1343f], [0x1bca0, 0x1bca3],
  [0x1d173, 0x1d17a], [0xe0001, 0xe0001], [0xe0020, 0xe007f]];
const singles = [];
for (let c = 0; c <= 0xffff; c++) {
  if (c < 0xd800 || c > 0xdfff) singles.push(String.fromCodePoint(c));
}
for (const [first, last] of refusedAstral) {
  for (let c = first - 2; c <= last + 2; c++) singles.push(String.fromCodePoint(c));
}
for (let c = 0x10000; c <= 0x10ffff; c += 241) singles.push(String.fromCodePoint(c));
const lengths = [0, 1, 2, 3, 8, 18, 19, 20, 21, 31, 32, 33, 38, 39, 40, 41, 63, 64, 65, 98, 99, 100, 101, 102, 198, 199,
  200, 201, 202, 255, 256, 257];
function runsOf(units, most) {
  const runs = [];
  for (const unit of units) {
    for (const n of lengths.filter((n) => n <= most)) {
      runs.push(unit.repeat(n), `a${unit.repeat(n)}a`, ` ${unit.repeat(n)} `, `x${unit.repeat(n)}`);
    }
  }
  return runs;
}
const bmpRuns = runsOf(["a", "Z9", "é", " ", "\t", "\u200b", "a\u00ad"], Infinity);

let failures = 0;
let compared = 0;
for (const [pattern, where] of patterns) {
  let plain;
  let unicode;
  try {
    plain = new RegExp(pattern);
    unicode = new RegExp(pattern, "u");
  } catch (error) {
    console.error(`${where}: does not compile: ${error.message.slice(0, 200)}`);
    failures++;
    continue;
  }
  const differ = [];
  const check = (text) => {
    compared++;
    if (plain.test(text) !== unicode.test(text)) differ.push(text);
  };
  for (const c of singles) {
    check(c);
    check(`a${c}b`);
  }
  bmpRuns.forEach(check);
  const bounds = [...pattern.matchAll(/\{0,(\d+)\}/g)].map((m) => Number(m[1]) + 2);
  const most = Math.min(Infinity, ...bounds);
  runsOf(["\u{1F600}", "\u{110BD}", "\u{E0041}", "\u{1F600}a"], Infinity).filter((t) => t.length <= most)
    .forEach(check);
  if (differ.length > 0) {
    const shown = differ.slice(0, 5).map((t) => JSON.stringify(t.length > 12 ? `${t.slice(0, 12)}…(${t.length})` : t));
    console.error(`${where}: ${differ.length} strings are read differently with and without u, e.g. ${shown.join(", ")}`);
    failures++;
  }
}
console.log(`${patterns.size} distinct patterns of ${file}, ${compared} strings compared with and without u: ` +
  `${failures === 0 ? "all compile and agree" : `${failures} failing`}`);
process.exit(failures === 0 ? 0 : 1);
