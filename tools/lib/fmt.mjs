// A checker for the layout `terraform fmt` produces (there is no terraform binary here):
//   - two-space indentation per nesting level, no tabs, no trailing whitespace, final newline;
//   - in a run of consecutive single-line `name = value` lines, the `=` signs are aligned one
//     space after the longest name (hclwrite's rule: a line whose value opens a multi-line
//     expression, a block header, a comment line or a blank line ends the run);
//   - trailing comments of consecutive lines aligned the same way.
// It tokenizes just enough HCL for this: strings (with ${...} interpolation), comments, heredocs
// and brackets.

const OPEN = new Set(["{", "[", "("]);
const CLOSE = new Set(["}", "]", ")"]);

/** Splits one line into significant tokens; `state` carries heredoc and block-comment context. */
function scanLine(line, state) {
    const tokens = [];
    let i = 0;
    if (state.heredoc) {
        if (line.trim() === state.heredoc) state.heredoc = undefined;
        return { tokens, inHeredoc: true };
    }
    if (state.blockComment) {
        const end = line.indexOf("*/");
        if (end < 0) return { tokens, inComment: true };
        state.blockComment = false;
        i = end + 2;
    }
    const stack = []; // string / interpolation nesting within this line
    while (i < line.length) {
        const c = line[i];
        const inString = stack.at(-1) === "str";
        if (inString) {
            if (c === "\\") { i += 2; continue; }
            if (c === '"') { stack.pop(); tokens.push({ t: "strend", col: i }); i++; continue; }
            if ((c === "$" || c === "%") && line[i + 1] === "{") { stack.push("interp"); i += 2; continue; }
            i++;
            continue;
        }
        if (c === '"') { stack.push("str"); tokens.push({ t: "str", col: i }); i++; continue; }
        if (stack.at(-1) === "interp" && c === "}") { stack.pop(); i++; continue; }
        if (stack.length === 0 && (c === "#" || (c === "/" && line[i + 1] === "/"))) { tokens.push({ t: "comment", col: i }); break; }
        if (stack.length === 0 && c === "/" && line[i + 1] === "*") {
            const end = line.indexOf("*/", i + 2);
            if (end < 0) { state.blockComment = true; break; }
            i = end + 2;
            continue;
        }
        if (stack.length === 0 && c === "<" && line[i + 1] === "<") {
            const m = line.slice(i).match(/^<<-?([A-Za-z_][A-Za-z0-9_]*)\s*$/);
            if (m) { state.heredoc = m[1]; tokens.push({ t: "heredoc", col: i }); break; }
        }
        if (stack.length === 0) {
            if (OPEN.has(c)) tokens.push({ t: "open", col: i });
            else if (CLOSE.has(c)) tokens.push({ t: "close", col: i });
            else if (c === "=" && line[i + 1] !== "=" && line[i + 1] !== ">" && !"=!<>".includes(line[i - 1] ?? "")) tokens.push({ t: "eq", col: i });
            else if (!/\s/.test(c)) tokens.push({ t: "other", col: i });
        } else if (stack.at(-1) === "interp") {
            if (c === '"') { stack.push("str"); i++; continue; }
        }
        i++;
    }
    return { tokens };
}

/** Returns problems as "file:line: message". */
export function checkFormat(text, file = "<text>") {
    const problems = [];
    const lines = text.split("\n");
    if (!text.endsWith("\n")) problems.push(`${file}:${lines.length}: missing final newline`);
    if (text.endsWith("\n")) lines.pop();
    const state = {};
    const levels = []; // open-bracket counts, one entry per indentation level
    const info = [];
    lines.forEach((line, index) => {
        const n = index + 1;
        if (/\t/.test(line)) problems.push(`${file}:${n}: tab character`);
        if (/[ \t]+$/.test(line)) problems.push(`${file}:${n}: trailing whitespace`);
        const wasHeredoc = Boolean(state.heredoc);
        const wasComment = Boolean(state.blockComment);
        const { tokens, inHeredoc } = scanLine(line, state);
        if (inHeredoc || wasHeredoc || wasComment || line.trim() === "") { info.push({ n }); return; }
        // Leading closers dedent this very line.
        let k = 0;
        while (k < tokens.length && tokens[k].t === "close") {
            if (levels.length) { levels[levels.length - 1]--; if (levels.at(-1) === 0) levels.pop(); }
            k++;
        }
        const indent = line.length - line.trimStart().length;
        const expected = 2 * levels.length;
        if (indent !== expected) problems.push(`${file}:${n}: indentation ${indent}, expected ${expected}`);
        let net = 0;
        for (const tok of tokens.slice(k)) {
            if (tok.t === "open") net++;
            else if (tok.t === "close") net--;
        }
        if (net > 0) levels.push(net);
        else for (let j = net; j < 0 && levels.length; j++) { levels[levels.length - 1]--; if (levels.at(-1) === 0) levels.pop(); }
        // Assignment cell: the first "=" after the first token, if the value is a whole expression.
        const eqIndex = tokens.findIndex((tok, j) => j > 0 && tok.t === "eq");
        let assign;
        if (eqIndex > 0 && !tokens.slice(0, eqIndex).some((tok) => tok.t === "open")) {
            let rhs = 0;
            for (const tok of tokens.slice(eqIndex)) if (tok.t === "open") rhs++; else if (tok.t === "close") rhs--;
            if (rhs === 0 && !tokens.some((tok) => tok.t === "heredoc")) {
                const keyEnd = line.slice(0, tokens[eqIndex].col).trimEnd().length;
                assign = { eqCol: tokens[eqIndex].col, keyEnd };
            }
        }
        const comment = tokens.find((tok) => tok.t === "comment");
        const trailingComment = comment && comment.col > indent ? { col: comment.col, codeEnd: line.slice(0, comment.col).trimEnd().length } : undefined;
        info.push({ n, assign, trailingComment });
    });
    // Alignment of "=" in runs of consecutive assignment lines.
    const runs = (key) => {
        const out = [];
        let run = [];
        for (const l of info) {
            if (l[key]) run.push(l);
            else { if (run.length) out.push(run); run = []; }
        }
        if (run.length) out.push(run);
        return out;
    };
    for (const run of runs("assign")) {
        const col = Math.max(...run.map((l) => l.assign.keyEnd)) + 1;
        for (const l of run) if (l.assign.eqCol !== col) problems.push(`${file}:${l.n}: "=" at column ${l.assign.eqCol + 1}, expected ${col + 1} (align with the lines around it)`);
    }
    for (const run of runs("trailingComment")) {
        const col = Math.max(...run.map((l) => l.trailingComment.codeEnd)) + 1;
        for (const l of run) if (l.trailingComment.col !== col) problems.push(`${file}:${l.n}: comment at column ${l.trailingComment.col + 1}, expected ${col + 1}`);
    }
    return problems;
}
