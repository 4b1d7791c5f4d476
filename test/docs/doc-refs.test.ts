/**
 * Every reason cited in a comment resolves from a clone (docs/style.md rule 37): a comment in src/
 * or test/ that names a Markdown document must name a file of this repository, and a citation of
 * docs/ with a section (§1d), a decision, a rule or a rule id (R16, O4) must name one that the
 * file defines. The background documents the project started from live outside the repository;
 * their names always fail, with the docs/ file that replaced them.
 *
 * Comments are found with the TypeScript parser, so text in strings and templates never counts.
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import ts from "typescript";
import { describe, expect, it } from "vitest";
import { ROOT } from "../helpers/cli.js";

/** The background documents, and the file of docs/ that holds their content here. */
const REPLACED: Readonly<Record<string, string>> = {
  ["CODEX_CLI" + ".md"]: "docs/codex-cli.md",
  ["CHATGPT_BACKEND" + ".md"]: "docs/chatgpt-backend.md",
  ["PRODUCT" + ".md"]: "docs/decisions.md",
  ["SEED_SUPERVISOR" + ".md"]: "docs/supervisor-rules.md",
  ["STYLE" + ".md"]: "docs/style.md",
  ["CODEX_APP_SERVER" + ".md"]: "docs/codex-app-server.md",
  ["TEAM_POOL" + ".md"]: "docs/team-pool.md",
};

const SCANNED_DIRS = ["src", "test"];
const SOURCE_FILE = /\.(?:[cm]?ts|[cm]?js)$/;

// ---------------------------------------------------------------------------------------------
// Comments

interface Comment {
  line: number;
  /** The comment as written, to find the line of each citation in it. */
  raw: string;
  /** The comment's words: markers and leading `*` removed, lines joined by single spaces. */
  text: string;
}

function scriptKind(fileName: string): ts.ScriptKind {
  return /\.[cm]?js$/.test(fileName) ? ts.ScriptKind.JS : ts.ScriptKind.TS;
}

function commentText(raw: string): string {
  const body = raw.startsWith("//") ? raw.slice(2) : raw.slice(2, -2);
  return body
    .split("\n")
    .map((line) => line.replace(/^\s*\*(?!\/)/, "").trim())
    .filter((line) => line !== "")
    .join(" ");
}

/** Every comment of a source text, in order, each once. */
function commentsOf(source: string, fileName = "x.ts"): Comment[] {
  const file = ts.createSourceFile(
    fileName,
    source,
    ts.ScriptTarget.Latest,
    true,
    scriptKind(fileName),
  );
  const seen = new Map<number, ts.CommentRange>();
  const visit = (node: ts.Node): void => {
    // A JSDoc node lies inside a comment: its text is not code, and the comment is found as the
    // trivia of the token it precedes.
    if (node.kind >= ts.SyntaxKind.FirstJSDocNode && node.kind <= ts.SyntaxKind.LastJSDocNode)
      return;
    const children = node.getChildren(file);
    if (children.length === 0 || node.kind === ts.SyntaxKind.EndOfFileToken) {
      // A token: the comments in the trivia before it (trailing ones end at the first newline).
      const at = node.getFullStart();
      for (const range of [
        ...(ts.getLeadingCommentRanges(source, at) ?? []),
        ...(ts.getTrailingCommentRanges(source, at) ?? []),
      ]) {
        seen.set(range.pos, range);
      }
    }
    for (const child of children) visit(child);
  };
  visit(file);
  return [...seen.values()]
    .sort((a, b) => a.pos - b.pos)
    .map((range) => ({
      line: file.getLineAndCharacterOfPosition(range.pos).line + 1,
      raw: source.slice(range.pos, range.end),
      text: commentText(source.slice(range.pos, range.end)),
    }));
}

// ---------------------------------------------------------------------------------------------
// Citations in a comment

type Target =
  | { kind: "section"; id: string }
  | { kind: "numbered"; word: "decision" | "rule"; id: string }
  | { kind: "ruleId"; id: string };

interface Citation {
  /** The document as written, e.g. "docs/codex-cli.md" or "README.md". */
  doc: string;
  targets: Target[];
}

const MD_MENTION = /(?<![\w@./-])((?:\.{1,2}\/)*(?:[\w@.-]+\/)*[\w@-][\w@.-]*\.md)(?![\w-])/g;
const SECTION_ID = String.raw`\d+(?:\.\d+)*[a-z]?'?`;
const SEPARATOR = /^(?:\s*(?:,|\/|\band\b)\s*|\s+)/;
const SECTION_REF = new RegExp(String.raw`^§\s?(${SECTION_ID})(?:\s*[–-]\s*§?(${SECTION_ID}))?`);
const NUMBERED_REF =
  /^(decision|rule)s?\s+(\d+[a-z]?)(?:\s*[–-]\s*(\d+))?((?:\s*(?:,|\/|\band\b)\s*\d+[a-z]?)*)/i;
const RULE_ID_REF = /^([RO])(\d+)(?:\s*[–-]\s*\1?(\d+))?(?![\w])/;

/** Every integer from a to b, or just the two ends when the range is not plain numbers. */
function integerRange(from: string, to: string | undefined): string[] {
  if (to === undefined) return [from];
  const a = Number(from);
  const b = Number(to);
  if (!Number.isInteger(a) || !Number.isInteger(b) || b < a || b - a > 100) return [from, to];
  return Array.from({ length: b - a + 1 }, (_, i) => String(a + i));
}

/** §2.1–2.3 is 2.1, 2.2 and 2.3; other ranges (§1a–§1c) are checked at both ends. */
function sectionRange(from: string, to: string | undefined): string[] {
  if (to === undefined) return [from];
  const f = /^(.*\.)(\d+)$/.exec(from);
  const t = /^(.*\.)(\d+)$/.exec(to);
  if (f && t && f[1] === t[1]) {
    return integerRange(f[2]!, t[2]).map((n) => `${f[1]}${n}`);
  }
  return [from, to];
}

/** The targets of one reference at the start of `text`, and its length; null when none is there. */
function oneReference(text: string): { targets: Target[]; length: number } | null {
  const section = SECTION_REF.exec(text);
  if (section) {
    const ids = sectionRange(section[1]!, section[2]);
    return { targets: ids.map((id) => ({ kind: "section", id })), length: section[0].length };
  }
  const numbered = NUMBERED_REF.exec(text);
  if (numbered) {
    const word = numbered[1]!.toLowerCase() as "decision" | "rule";
    const ids = [
      ...integerRange(numbered[2]!, numbered[3]),
      ...(numbered[4]!.match(/\d+[a-z]?/g) ?? []),
    ];
    return {
      targets: ids.map((id) => ({ kind: "numbered", word, id })),
      length: numbered[0].length,
    };
  }
  const ruleId = RULE_ID_REF.exec(text);
  if (ruleId) {
    const ids = integerRange(ruleId[2]!, ruleId[3]).map((n) => ruleId[1]! + n);
    return { targets: ids.map((id) => ({ kind: "ruleId", id })), length: ruleId[0].length };
  }
  return null;
}

/** The sections, decisions, rules and ids written right after a document's name. */
function targetsAfter(tail: string): Target[] {
  const targets: Target[] = [];
  let rest = tail.replace(/^`?\s*\(?/, "");
  for (let ref = oneReference(rest); ref !== null; ref = oneReference(rest)) {
    targets.push(...ref.targets);
    rest = rest.slice(ref.length);
    const separator = SEPARATOR.exec(rest);
    if (!separator) break;
    rest = rest.slice(separator[0].length);
  }
  return targets;
}

/** The Markdown documents a comment names (not inside a URL), each with what it cites. */
function citationsIn(text: string): Citation[] {
  const citations: Citation[] = [];
  for (const m of text.matchAll(MD_MENTION)) {
    const start = m.index;
    const word = text.slice(text.lastIndexOf(" ", start) + 1, start);
    if (word.includes("://")) continue;
    citations.push({ doc: m[1]!, targets: targetsAfter(text.slice(start + m[1]!.length)) });
  }
  return citations;
}

// ---------------------------------------------------------------------------------------------
// What a document defines

interface Anchors {
  /** Ids of headings that start with a section number: "## §1d …", "### 2.10 …", "## 3. …". */
  sections: Set<string>;
  /** Numbers of headings and of top-level numbered list items ("19. **…**"). */
  numbered: Set<string>;
  /** Rule ids written in bold at the start of a list item or a heading: "- **R16.** …". */
  ruleIds: Set<string>;
}

function anchorsOf(markdown: string): Anchors {
  const anchors: Anchors = { sections: new Set(), numbered: new Set(), ruleIds: new Set() };
  const heading = new RegExp(String.raw`^#{1,6}\s+§?(${SECTION_ID})(?=[\s.:)]|$)`);
  let fenced = false;
  for (const line of markdown.split("\n")) {
    if (/^\s*(?:```|~~~)/.test(line)) fenced = !fenced;
    if (fenced) continue;
    const h = heading.exec(line);
    if (h) {
      anchors.sections.add(h[1]!);
      anchors.numbered.add(h[1]!);
    }
    const item = /^(\d+)\.\s/.exec(line);
    if (item) anchors.numbered.add(item[1]!);
    const rule = /^(?:#{1,6}\s+|[-*]\s+)?\*\*([RO]\d+)\.?\*\*/.exec(line);
    if (rule) anchors.ruleIds.add(rule[1]!);
    const ruleHeading = /^#{1,6}\s+([RO]\d+)\b/.exec(line);
    if (ruleHeading) anchors.ruleIds.add(ruleHeading[1]!);
  }
  return anchors;
}

function defines(anchors: Anchors, target: Target): boolean {
  switch (target.kind) {
    case "section":
      return anchors.sections.has(target.id);
    case "numbered":
      // "decision 4a" is the (a) of decision 4.
      return anchors.numbered.has(target.id) || anchors.numbered.has(target.id.replace(/\D+$/, ""));
    case "ruleId":
      return anchors.ruleIds.has(target.id);
  }
}

function describeTarget(target: Target): string {
  if (target.kind === "section") return `§${target.id}`;
  if (target.kind === "numbered") return `${target.word} ${target.id}`;
  return target.id;
}

// ---------------------------------------------------------------------------------------------
// Checking the repository

function sourceFiles(dir: string): string[] {
  const out: string[] = [];
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) out.push(...sourceFiles(full));
    else if (entry.isFile() && SOURCE_FILE.test(entry.name)) out.push(full);
  }
  return out;
}

/** The repository-relative path a citation names, or null when it points outside the project. */
function resolveDoc(doc: string, fromFile: string): string | null {
  const base = /^\.{1,2}\//.test(doc) ? path.dirname(fromFile) : ROOT;
  const rel = path.relative(ROOT, path.resolve(base, doc)).split(path.sep).join("/");
  if (rel.startsWith("../") || /^(?:node_modules|dist)\//.test(rel)) return null;
  return rel;
}

/** One line per citation that does not resolve, as `file:line: what is wrong`. */
function brokenCitations(files: readonly string[]): string[] {
  const problems: string[] = [];
  const anchorCache = new Map<string, Anchors>();
  for (const file of files) {
    const where = path.relative(ROOT, file).split(path.sep).join("/");
    for (const comment of commentsOf(fs.readFileSync(file, "utf8"), file)) {
      let searchFrom = 0;
      for (const { doc, targets } of citationsIn(comment.text)) {
        // The line of the mention itself, for a reader going through the list.
        const offset = comment.raw.indexOf(doc, searchFrom);
        searchFrom = offset < 0 ? searchFrom : offset + doc.length;
        const lines = offset < 0 ? 0 : comment.raw.slice(0, offset).split("\n").length - 1;
        const at = `${where}:${comment.line + lines}`;
        const replacement = REPLACED[path.posix.basename(doc)];
        if (replacement !== undefined) {
          problems.push(`${at}: ${doc} is not in the repository; cite ${replacement}`);
          continue;
        }
        const rel = resolveDoc(doc, file);
        if (
          rel === null ||
          !fs.statSync(path.join(ROOT, rel), { throwIfNoEntry: false })?.isFile()
        ) {
          problems.push(`${at}: ${doc} is not a file of the repository`);
          continue;
        }
        if (!rel.startsWith("docs/") || targets.length === 0) continue;
        let anchors = anchorCache.get(rel);
        if (anchors === undefined) {
          anchors = anchorsOf(fs.readFileSync(path.join(ROOT, rel), "utf8"));
          anchorCache.set(rel, anchors);
        }
        for (const target of targets) {
          if (!defines(anchors, target)) {
            problems.push(`${at}: ${rel} has no ${describeTarget(target)}`);
          }
        }
      }
    }
  }
  return problems;
}

// ---------------------------------------------------------------------------------------------

describe("citations of documents in comments", () => {
  it("every document a comment in src/ or test/ names is in the repository, with the cited section", () => {
    const files = SCANNED_DIRS.flatMap((dir) => sourceFiles(path.join(ROOT, dir)));
    expect(files.length).toBeGreaterThan(50);
    expect(brokenCitations(files)).toEqual([]);
  });
});

describe("the checker itself", () => {
  it("finds comments of every kind, and never text in strings or templates", () => {
    const source = [
      "#!/usr/bin/env node",
      "/** A (docs/a.md §1). */",
      "const s = '// not a comment: docs/b.md';",
      "const t = `${s} /* nor this: docs/c.md */ ${/* but this: docs/d.md */ s}`;",
      "const r = /\\/\\/ docs\\/e.md/; // trailing: docs/f.md",
      "function f() {",
      "  // inside a block: docs/g.md",
      "}",
      "// at the end: docs/h.md",
    ].join("\n");
    const found = commentsOf(source).map((c) => `${c.line} ${c.text}`);
    expect(found).toEqual([
      "2 A (docs/a.md §1).",
      "4 but this: docs/d.md",
      "5 trailing: docs/f.md",
      "7 inside a block: docs/g.md",
      "9 at the end: docs/h.md",
    ]);
  });

  it("joins the lines of a block comment into one text", () => {
    const [comment] = commentsOf("/**\n * first line, docs/x.md\n * §5.4 and more\n */\nlet a;");
    expect(comment?.text).toBe("first line, docs/x.md §5.4 and more");
  });

  it("reads every form of citation the code uses", () => {
    const cite = (text: string) =>
      citationsIn(text).map((c) => [c.doc, c.targets.map(describeTarget).join(" ")]);
    expect(cite("(docs/codex-cli.md §1b/§1c): what")).toEqual([["docs/codex-cli.md", "§1b §1c"]]);
    expect(cite("see docs/codex-cli.md §1b', then")).toEqual([["docs/codex-cli.md", "§1b'"]]);
    expect(cite("(docs/chatgpt-backend.md §2.1–2.3)")).toEqual([
      ["docs/chatgpt-backend.md", "§2.1 §2.2 §2.3"],
    ]);
    expect(cite("(`docs/decisions.md` decisions 5–7 and 10)")).toEqual([
      ["docs/decisions.md", "decision 5 decision 6 decision 7 decision 10"],
    ]);
    expect(cite("docs/decisions.md decision 4a). Then R2")).toEqual([
      ["docs/decisions.md", "decision 4a"],
    ]);
    expect(
      cite("(docs/style.md rules 21/25, docs/supervisor-rules.md R3, R7–R9, O12) shape"),
    ).toEqual([
      ["docs/style.md", "rule 21 rule 25"],
      ["docs/supervisor-rules.md", "R3 R7 R8 R9 O12"],
    ]);
    expect(cite("README.md and ../x/NOTES.md, not https://example.com/READ.md")).toEqual([
      ["README.md", ""],
      ["../x/NOTES.md", ""],
    ]);
    expect(cite("a Rollout file.md-like word, *.md globs and docs/x.mdx")).toEqual([]);
  });

  it("knows what a document defines: numbered headings, numbered items, bold rule ids", () => {
    const anchors = anchorsOf(
      [
        "# Title",
        "## §0 Traps",
        "### §0.1 First",
        "### §1b' Prime",
        "## 3. Plain number",
        "### 2.10 Two digits",
        "```sh",
        "# 9 in a code block",
        "```",
        "19. **A rule.** text",
        "- **R16.** A rule id.",
        "  20. an indented item is not a rule",
      ].join("\n"),
    );
    expect([...anchors.sections].sort()).toEqual(["0", "0.1", "1b'", "2.10", "3"]);
    expect(anchors.numbered.has("19")).toBe(true);
    expect(anchors.numbered.has("9")).toBe(false);
    expect(anchors.numbered.has("20")).toBe(false);
    expect([...anchors.ruleIds]).toEqual(["R16"]);
  });

  it("reports a background document, a missing file, and a missing section or id", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "doc-refs-"));
    try {
      const file = path.join(dir, "sample.ts");
      fs.writeFileSync(
        file,
        [
          `// ${"PRODUCT" + ".md"} decision 3`,
          "// docs/decisions.md decision 3, and docs/no-such-file.md",
          "// docs/codex-cli.md §1d; docs/codex-cli.md §9.9",
          "// docs/supervisor-rules.md R26, O14; docs/style.md rule 38",
          "// ../../../outside.md",
          "export {};",
        ].join("\n"),
      );
      const where = path.relative(ROOT, file).split(path.sep).join("/");
      expect(brokenCitations([file])).toEqual([
        `${where}:1: ${"PRODUCT" + ".md"} is not in the repository; cite docs/decisions.md`,
        `${where}:2: docs/no-such-file.md is not a file of the repository`,
        `${where}:3: docs/codex-cli.md has no §9.9`,
        `${where}:4: docs/supervisor-rules.md has no O14`,
        `${where}:4: docs/style.md has no rule 38`,
        `${where}:5: ../../../outside.md is not a file of the repository`,
      ]);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("docs/ keeps the numbering the code cites", () => {
  const anchors = (name: string) =>
    anchorsOf(fs.readFileSync(path.join(ROOT, "docs", name), "utf8"));
  const range = (prefix: string, from: number, to: number) =>
    Array.from({ length: to - from + 1 }, (_, i) => `${prefix}${from + i}`);

  it("decisions.md holds decisions 1–13", () => {
    const { numbered } = anchors("decisions.md");
    for (const n of range("", 1, 13)) expect(numbered.has(n), `decision ${n}`).toBe(true);
  });

  it("style.md holds rules 1–37", () => {
    const { numbered } = anchors("style.md");
    for (const n of range("", 1, 37)) expect(numbered.has(n), `rule ${n}`).toBe(true);
  });

  it("supervisor-rules.md holds R1–R26 and O1–O13", () => {
    expect([...anchors("supervisor-rules.md").ruleIds].sort()).toEqual(
      [...range("R", 1, 26), ...range("O", 1, 13)].sort(),
    );
  });

  it("codex-cli.md and chatgpt-backend.md hold every section of the numbering", () => {
    const cli = anchors("codex-cli.md").sections;
    const cliIds = [
      ...range("0.", 1, 7),
      ..."abcdefg".split("").map((l) => `1${l}`),
      "1b'",
      "2",
      "3",
      "4",
      ...range("5.", 1, 4),
      "6",
      "7",
    ];
    expect(cliIds.filter((id) => !cli.has(id))).toEqual([]);
    const backend = anchors("chatgpt-backend.md").sections;
    const backendIds = [...range("2.", 1, 10), ...range("3.", 1, 4)];
    expect(backendIds.filter((id) => !backend.has(id))).toEqual([]);
  });
});
