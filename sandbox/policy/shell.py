"""Read a command string the way bash would: the simple commands it would run.

tree-sitter-bash gives the syntax tree; this module walks it and returns every
command that would execute (inside $( ), backticks, <( ), subshells, functions,
loops, conditionals, pipelines and lists), with its words after quote removal.
Words that hold an expansion keep their source text (`$X`, `$(date)`) and are
marked dynamic. Nothing here knows about policies or tools.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass

# Limits beyond which the input is refused rather than judged (fail closed). They count
# bytes, pipeline stages, syntax nodes and depth, so the same text always gets the same answer.
MAX_BYTES = 64 * 1024  # a commit message or heredoc of a few KB is common; 64 KB parses in ~30 ms
MAX_PIPELINE_STAGES = 256  # tree-sitter-bash takes time quadratic in the stages of one pipeline
MAX_NODES = 12_000
MAX_TREE_DEPTH = 120
# The last resort against a parser slowdown nobody has found yet: CPU time of this thread, so a
# busy machine does not spend it, and far above what the largest accepted input takes (~0.05 s).
PARSE_CPU_SECONDS = 3.0


@dataclass(frozen=True)
class Command:
    argv: tuple[str, ...]
    opaque: str | None = None  # why the command's name cannot be known before it runs
    # Words whose text holds an expansion ($X, $(...)) only known at run time, per argv word.
    dynamic: tuple[bool, ...] = ()
    assigns: tuple[tuple[str, str], ...] = ()  # NAME=value the command runs with (prefix, export, env, sudo)
    stdin: str | None = None  # literal text the command reads on stdin (heredoc, here-string, `echo ... |`)
    stdin_from: str | None = None  # where non-literal stdin comes from: a program name, "file", "expansion"
    # "simple": a command that runs; "wrapper": a command that was unwrapped (sudo, sh -c, xargs...);
    # "function": a function definition (argv = (name,)); "assign": a bare assignment or declaration;
    # "error": text the parser could not read (argv = its words, roughly).
    kind: str = "simple"
    via: tuple[str, ...] = ()  # the wrappers it was found inside, outermost first
    remote: str | None = None  # the host it runs on, for what `ssh HOST CMD` runs there
    # Words with an unquoted glob or brace the shell expands before it runs them, per argv word.
    pattern: tuple[bool, ...] = ()

    @property
    def name(self) -> str:
        """The program as the shell looks it up: the basename of the first word."""
        return self.argv[0].rsplit("/", 1)[-1] if self.argv else ""

    def is_dynamic(self, index: int) -> bool:
        return index < len(self.dynamic) and self.dynamic[index]

    def is_pattern(self, index: int) -> bool:
        return index < len(self.pattern) and self.pattern[index]


class Unparsable(Exception):
    pass


_PARSER = None


def _parser():
    global _PARSER
    if _PARSER is None:
        # Imported on first use: the hooks' fast path never pays for it.
        import tree_sitter
        import tree_sitter_bash

        _PARSER = tree_sitter.Parser(tree_sitter.Language(tree_sitter_bash.language()))
    return _PARSER


def parse_commands(text: str) -> list[Command]:
    """Every command the text would run, in source order. Raises Unparsable."""
    if not isinstance(text, str):
        raise Unparsable("not text")
    source = text.encode("utf-8", "surrogatepass")
    if len(source) > MAX_BYTES:
        raise Unparsable(f"the command is {len(source)} bytes long (the limit is {MAX_BYTES})")
    if b"\x00" in source:
        raise Unparsable("the command holds a NUL byte")
    stages = longest_pipeline(text)
    if stages > MAX_PIPELINE_STAGES:
        raise Unparsable(f"a pipeline has {stages} stages or more (the limit is {MAX_PIPELINE_STAGES})")
    parsed = source if text.isascii() else _parser_safe(text)
    root = _parse(parsed).root_node
    if b"coproc" in parsed:
        parsed, source, root = _without_coproc(parsed, source, root)
    if root.descendant_count > MAX_NODES:
        raise Unparsable(f"the command has more than {MAX_NODES} syntax nodes")
    walker = _Walker(source)
    walker.visit(root, 0)
    return walker.commands


# bash: `coproc [NAME] COMMAND` runs COMMAND in the background; NAME only comes before a
# compound command. tree-sitter-bash reads the keyword as a command named coproc, with the
# body's words (`{`, `while`...) as its arguments, and splits the body at its first `;`.
_COPROC_NAME = re.compile(rb"[ \t]+[A-Za-z_][A-Za-z0-9_]*[ \t]+(?=[{(]|\[\[|(?:while|until|for|if|case|select)(?![A-Za-z0-9_]))")
MAX_COPROC_ROUNDS = 8  # a coproc inside a coproc's body shows only once the outer keyword is gone


def _without_coproc(parsed: bytes, source: bytes, root):
    """The text with every coproc keyword (and its NAME) blanked out, so its body parses as what runs.

    Blanks keep every byte offset, so words are still read from the same places.
    """
    for _ in range(MAX_COPROC_ROUNDS):
        spans = []
        for start, end in _coproc_keywords(root):
            name = _COPROC_NAME.match(parsed, end)
            spans.append((start, name.end() if name else end))
        if not spans:
            return parsed, source, root
        for start, end in spans:
            blank = b" " * (end - start)
            parsed = parsed[:start] + blank + parsed[end:]
            source = source[:start] + blank + source[end:]
        root = _parse(parsed).root_node
    raise Unparsable(f"coproc nested more than {MAX_COPROC_ROUNDS} deep")


def _coproc_keywords(root):
    """Byte ranges of the unquoted word coproc where it stands as a command's name."""
    found, stack = [], [root]
    while stack:
        node = stack.pop()
        if node.type == "command_name":
            word = node.named_children[0] if node.named_child_count == 1 else None
            if word is not None and word.type == "word" and word.text == b"coproc":
                found.append((word.start_byte, word.end_byte))
            continue
        stack.extend(node.children)
    return found


def only_defines_functions(text: str) -> bool:
    """True when the text does nothing but define functions (whose bodies run, and are judged, later)."""
    try:
        commands = parse_commands(text)
    except Unparsable:
        return False
    if not commands or commands[0].kind != "function":
        return False
    source = text.encode("utf-8", "surrogatepass")
    root = _parse(source if text.isascii() else _parser_safe(text)).root_node
    return not root.has_error and all(node.type == "function_definition" for node in root.named_children)


# tree-sitter-bash 0.25 can crash (SIGSEGV) on some code points outside the BMP, and lone
# surrogates are no UTF-8 at all. To bash every non-ASCII character is a word character,
# so the parser is given plain letters in their place.
_UNSAFE_CHARS = re.compile(r"[^\x00-\x7f]")


def _parser_safe(text: str) -> bytes:
    """The text with characters the parser cannot take replaced by as many bytes of plain letters.

    Byte offsets stay the same, so words are still read from the original text.
    """
    return _UNSAFE_CHARS.sub(lambda m: "x" * len(m.group().encode("utf-8", "surrogatepass")), text).encode(
        "utf-8", "surrogatepass")


def _parse(source: bytes):
    """Parse; past the CPU-time last resort the reader stops feeding text and the input is refused."""
    deadline = time.thread_time() + PARSE_CPU_SECONDS
    expired = False
    chunk = 4 * 1024

    def read(offset, _point):
        nonlocal expired
        if offset >= len(source):
            return b""
        if time.thread_time() > deadline:
            expired = True
            return b""
        return source[offset:offset + chunk]

    if len(source) <= chunk:
        tree = _parser().parse(source)
    else:
        tree = _parser().parse(read)
    if tree is None or expired:
        raise Unparsable("the command took too long to parse")
    return tree


# Where the stage count restarts (; & && || newline), where quoted text starts, and pipes.
_PIPE_TOKENS = re.compile(r"\\.|'|\$'|\"|`|\$\(|\(|\)|<<-?[ \t]*(?:'([^'\n]*)'|\"([^\"\n]*)\"|\\?([A-Za-z0-9_]+))|"
                          r"\|\||\|&?|&&|[;&\n]", re.S)


def longest_pipeline(text: str) -> int:
    """An upper bound on the number of stages of the longest pipeline in the text.

    A small lexer rather than the parser, because the parser is what this protects. Pipes in
    single quotes, in plain double-quoted text and in heredoc bodies are data and not counted;
    pipes inside $( ) or backticks, even within double quotes, are.
    """
    if text.count("|") < MAX_PIPELINE_STAGES:
        return text.count("|") + 1
    longest = stages = 1
    quoted = []  # stack: '"' inside double quotes, ")" inside $( ) or ( ), "`" inside backticks
    heredocs: list[str] = []
    pos, end = 0, len(text)
    while pos < end:
        m = _PIPE_TOKENS.search(text, pos)
        if m is None:
            break
        token, pos = m.group(), m.end()
        in_dq = bool(quoted) and quoted[-1] == '"'
        if token.startswith("\\"):
            continue
        if in_dq:
            if token == '"':
                quoted.pop()
            elif token == "$(":
                quoted.append(")")
            elif token == "`":
                quoted.append("`")
            continue
        if token in ("'", "$'"):
            close = text.find("'", pos) if token == "'" else _ansi_end(text, pos)
            pos = end if close < 0 else close + 1
        elif token == '"':
            quoted.append('"')
        elif token in ("$(", "("):
            quoted.append(")")
        elif token == ")":
            if quoted and quoted[-1] == ")":
                quoted.pop()
        elif token == "`":
            if quoted and quoted[-1] == "`":
                quoted.pop()
            else:
                quoted.append("`")
        elif token.startswith("<<"):
            heredocs.append(next(g for g in m.groups() if g is not None))
        elif token in ("|", "|&"):
            stages += 1
            longest = max(longest, stages)
            if longest > MAX_PIPELINE_STAGES:
                return longest  # over the limit: the exact count does not matter
        else:
            stages = 1
            if token == "\n" and heredocs:
                pos = _after_heredocs(text, pos, heredocs)
                heredocs = []
    return longest


def _ansi_end(text: str, pos: int) -> int:
    m = re.compile(r"(?:[^'\\]|\\.)*'", re.S).match(text, pos)
    return m.end() - 1 if m else -1


def _after_heredocs(text: str, pos: int, delimiters: list[str]) -> int:
    """Skip the bodies of the heredocs started on the line that just ended."""
    for delimiter in delimiters:
        m = re.compile(r"^[\t]*" + re.escape(delimiter) + r"[ \t]*$", re.M).search(text, pos)
        if m is None:
            return len(text)
        pos = m.end()
    return pos


# --- words -----------------------------------------------------------------

_DYNAMIC_TYPES = frozenset({
    "simple_expansion", "expansion", "command_substitution", "process_substitution", "arithmetic_expansion",
})
# A glob (* ? or a [...] class: a lone `[` is the test command) or a brace the shell expands.
_PATTERN_CHARS = re.compile(r"[*?{]|\[.*\]")
_ANSI_ESCAPES = {"a": "\a", "b": "\b", "e": "\x1b", "E": "\x1b", "f": "\f", "n": "\n", "r": "\r",
                 "t": "\t", "v": "\v", "\\": "\\", "'": "'", '"': '"', "?": "?"}
_ANSI_RE = re.compile(r"\\(x[0-9a-fA-F]{1,2}|u[0-9a-fA-F]{1,4}|U[0-9a-fA-F]{1,8}|[0-7]{1,3}|c.|.)", re.S)
_UNQUOTED_ESCAPE = re.compile(r"\\(\n|.)", re.S)
_DQUOTE_ESCAPE = re.compile(r"\\([$`\"\\\n])")


def _ansi_c(body: str) -> str:
    def one(m):
        code = m.group(1)
        head = code[0]
        if head in "xuU":
            return chr(int(code[1:], 16)) if int(code[1:], 16) < 0x110000 else ""
        if head.isdigit():
            return chr(int(code, 8) & 0xFF)
        if head == "c":
            return chr(ord(code[1]) & 0x1F)
        return _ANSI_ESCAPES.get(code, "\\" + code)

    return _ANSI_RE.sub(one, body)


def _unescape_unquoted(text: str) -> str:
    return _UNQUOTED_ESCAPE.sub(lambda m: "" if m.group(1) == "\n" else m.group(1), text)


def _unescape_dquoted(text: str) -> str:
    return _DQUOTE_ESCAPE.sub(lambda m: "" if m.group(1) == "\n" else m.group(1), text)


class _Walker:
    def __init__(self, source: bytes):
        self.src = source
        self.commands: list[Command] = []
        self.exported: dict[str, str] = {}
        # Words that tree-sitter hung on a redirect but bash gives to the command, by its byte range.
        self.redirect_args: dict[tuple[int, int], list] = {}

    def text(self, node) -> str:
        return self.src[node.start_byte:node.end_byte].decode("utf-8", "replace")

    # A word: (text after quote removal, dynamic, pattern). pattern: an unquoted glob or brace.
    def word(self, node) -> tuple[str, bool, bool]:
        kind = node.type
        if kind == "word" or kind == "number":
            raw = self.text(node)
            return _unescape_unquoted(raw), False, bool(_PATTERN_CHARS.search(_UNQUOTED_ESCAPE.sub("", raw)))
        if kind == "raw_string":
            return self.text(node)[1:-1], False, False
        if kind == "ansi_c_string":
            return _ansi_c(self.text(node)[2:-1]), False, False
        if kind in ("string", "translated_string"):
            return self._dquoted(node)
        if kind == "concatenation" or kind == "command_name":
            parts = [self.word(child) for child in node.children]
            return "".join(p[0] for p in parts), any(p[1] for p in parts), any(p[2] for p in parts) or self._glob_across(node)
        if kind in _DYNAMIC_TYPES:
            return self.text(node), True, False
        if kind in ("string_content", "heredoc_body"):
            return self.text(node), False, False
        # brace_expression, extglob_pattern, regex and the like: text only known after expansion.
        return self.text(node), False, True

    def _glob_across(self, node) -> bool:
        """A [...] class that tree-sitter split into several words (`dock[e]r`); quoted parts count as plain letters."""
        plain = "".join(_UNQUOTED_ESCAPE.sub("_", self.text(c)) if c.type == "word" else "_" for c in node.children)
        return bool(_PATTERN_CHARS.search(plain))

    def _dquoted(self, node) -> tuple[str, bool, bool]:
        start = node.start_byte
        end = node.end_byte
        raw = self.src[start:end]
        # Skip the leading $ of $"..." and the quotes themselves.
        open_len = 2 if raw.startswith(b'$"') else 1
        pos, out, dynamic = start + open_len, [], False
        for child in node.named_children:
            if child.type in _DYNAMIC_TYPES:
                out.append(_unescape_dquoted(self.src[pos:child.start_byte].decode("utf-8", "replace")))
                out.append(self.text(child))
                dynamic = True
                pos = child.end_byte
        tail_end = end - 1 if raw.endswith(b'"') and end - 1 >= pos else end
        out.append(_unescape_dquoted(self.src[pos:tail_end].decode("utf-8", "replace")))
        return "".join(out), dynamic, False

    # --- the walk --------------------------------------------------------

    def visit(self, node, depth: int) -> None:
        if depth > MAX_TREE_DEPTH:
            raise Unparsable("the command is nested too deeply")
        kind = node.type
        if kind == "command":
            self.command(node, depth, None)
        elif kind == "pipeline":
            self.pipeline(node.named_children, depth, None)
        elif kind == "redirected_statement":
            self.redirected(node, depth, None)
        elif kind == "function_definition":
            self.function(node, depth)
        elif kind == "variable_assignment":
            self.bare_assignment([node], depth)
        elif kind == "variable_assignments":
            self.bare_assignment(node.named_children, depth)
        elif kind in ("declaration_command", "unset_command"):
            self.declaration(node, depth)
        elif kind == "ERROR":
            self.error(node, node, depth)
        elif node.is_missing:
            self.error(node.parent or node, node, depth)
        elif kind in ("heredoc_body", "comment"):
            self.visit_children(node, depth)
        else:
            self.visit_children(node, depth)

    def visit_children(self, node, depth: int) -> None:
        for child in node.named_children:
            self.visit(child, depth + 1)

    def error(self, region, node, depth: int) -> None:
        text = self.text(region)
        cleaned = re.sub(r"['\"\\]", "", text)
        words = tuple(re.findall(r"[^\s;&|()<>{},]+", cleaned))
        self.commands.append(Command(words or (text[:80],), kind="error"))
        if node is region:
            self.visit_children(node, depth)

    def pipeline(self, stages, depth: int, stdin: tuple[str | None, str | None] | None):
        """Visit pipeline stages, handing each the output of the one before."""
        feed = stdin
        for stage in stages:
            feed = self.stage(stage, depth + 1, feed)
        return feed

    def stage(self, node, depth: int, stdin):
        """Visit one statement given what it reads; return what it writes: (literal text, producer)."""
        if depth > MAX_TREE_DEPTH:
            raise Unparsable("the command is nested too deeply")
        if node.type == "command":
            return self.command(node, depth, stdin)
        if node.type == "redirected_statement":
            return self.redirected(node, depth, stdin)
        if node.type == "pipeline":
            return self.pipeline(node.named_children, depth, stdin)
        self.visit(node, depth)
        return (None, node.type)

    def redirected(self, node, depth: int, stdin):
        body = None
        redirects = []
        for child in node.named_children:
            if child.type.endswith("_redirect"):
                redirects.append(child)
            elif body is None:
                body = child
            else:
                self.visit(child, depth + 1)
        extra = [w for r in redirects for w in _redirect_args(r)]
        if body is None and extra:
            return self.words_only(extra, redirects, depth, stdin)
        if extra:
            self.give_args(body, extra, depth)
        stdin = self.redirect_input(redirects, depth, stdin)
        # tree-sitter hangs what follows a heredoc's start on its line (`| sh`, `&& x`) under the redirect.
        rest = [c for r in redirects if r.type == "heredoc_redirect" for c in r.named_children
                if c.type not in ("heredoc_start", "heredoc_body", "heredoc_end", "file_descriptor", "file_redirect")
                and not _is_field(r, c, "argument")]
        out = self.stage(body, depth + 1, stdin) if body is not None else (None, "redirect")
        for child in rest:
            if child.type == "pipeline":
                out = self.pipeline(child.named_children, depth + 1, out)
            else:
                out = self.stage(child, depth + 1, None)
        return out

    def give_args(self, body, words, depth: int) -> None:
        """Hand the words after a redirect to the simple command they belong to (`rm 2>/dev/null -rf ~`)."""
        target = body
        while target is not None and target.type == "negated_command":
            target = target.named_children[-1] if target.named_children else None
        if target is not None and target.type == "command":
            key = (target.start_byte, target.end_byte)
            self.redirect_args[key] = self.redirect_args.get(key, []) + list(words)
            return
        # Words after the redirect of a group or loop: bash refuses the line; judge them as unreadable text.
        for word in words:
            self.visit_words(word, depth + 1)
        self.commands.append(Command(tuple(self.word(w)[0] for w in words), kind="error"))

    def redirect_input(self, redirects, depth: int, stdin):
        """What a statement reads on stdin, given its redirects; visits substitutions inside them."""
        for redirect in redirects:
            kind = redirect.type
            if kind == "heredoc_redirect":
                nested = [c for c in redirect.named_children if c.type == "file_redirect"]
                if nested:
                    stdin = self.redirect_input(nested, depth, stdin)
                start = next((c for c in redirect.named_children if c.type == "heredoc_start"), None)
                body = next((c for c in redirect.named_children if c.type == "heredoc_body"), None)
                for c in redirect.named_children:
                    if c.type == "heredoc_body":
                        self.visit_children(c, depth + 1)  # $( ) in an unquoted heredoc runs now
                text = self.text(body) if body is not None else ""
                quoted = start is not None and any(q in self.text(start) for q in "'\"\\")
                stdin = (text if quoted else _unescape_heredoc(text), None)
            elif kind == "herestring_redirect":
                target = redirect.named_children[-1] if redirect.named_children else None
                if target is not None:
                    self.visit(target, depth + 1)
                    value, dynamic, _ = self.word(target)
                    stdin = (None, "expansion") if dynamic else (value + "\n", None)
            elif kind == "file_redirect":
                op = redirect.children[0].type if redirect.children else ""
                extra = _redirect_args(redirect)
                own = [c for c in redirect.named_children if not any(c.start_byte == e.start_byte for e in extra)]
                for c in own:
                    self.visit(c, depth + 1)
                if op in ("<", "<>") or (op == "file_descriptor" and b"<" in self.src[redirect.start_byte:redirect.end_byte]):
                    target = own[-1] if own else None
                    if target is not None and target.type == "process_substitution":
                        stdin = (None, "process substitution")
                    else:
                        stdin = (None, "file")
            else:
                self.visit_children(redirect, depth + 1)
        return stdin

    def command(self, node, depth: int, stdin):
        assigns: list[tuple[str, str]] = []
        words: list[tuple[str, bool, bool]] = []
        redirects = []
        for child in node.children:
            kind = child.type
            if kind == "variable_assignment":
                assigns.append(self.assignment(child, depth))
            elif kind == "command_name":
                self.visit_words(child, depth)
                words.append(self.word(child))
            elif kind.endswith("_redirect"):
                redirects.append(child)
                for extra in _redirect_args(child):
                    self.visit_words(extra, depth)
                    words.append(self.word(extra))
            elif child.is_named:
                if kind == "ERROR" or child.has_error:
                    self.visit(child, depth + 1)
                else:
                    self.visit_words(child, depth)
                words.append(self.word(child))
        for extra in self.redirect_args.pop((node.start_byte, node.end_byte), ()):
            self.visit_words(extra, depth)
            words.append(self.word(extra))
        return self.simple(assigns, words, redirects, depth, stdin)

    def words_only(self, extra, redirects, depth: int, stdin):
        """`2>/dev/null 2>&1 rm -rf ~`: tree-sitter saw only redirects; the words after them are the command."""
        words = []
        for node in extra:
            self.visit_words(node, depth)
            words.append(self.word(node))
        return self.simple([], words, redirects, depth, stdin)

    def simple(self, assigns, words, redirects, depth: int, stdin):
        stdin = self.redirect_input(redirects, depth, stdin)
        if not words:
            self.record_assignments(assigns, exported=False)
            self.commands.append(Command(tuple(f"{n}={v}" for n, v in assigns), kind="assign",
                                         assigns=tuple(assigns)))
            return (None, "assignment")
        argv = tuple(w[0] for w in words)
        dynamic = tuple(w[1] for w in words)
        env = dict(self.exported)
        env.update(assigns)
        opaque = None
        name, name_dynamic, name_pattern = words[0]
        if name_dynamic:
            opaque = f"the command name {name} is only known when it runs"
        elif name_pattern:
            opaque = f"the command name {name} is a pattern the shell expands"
        literal_in, producer = stdin if stdin else (None, None)
        self.commands.append(Command(argv, opaque, dynamic, tuple(env.items()), literal_in, producer,
                                     pattern=tuple(w[2] for w in words)))
        return _output_of(argv, dynamic, literal_in)

    def visit_words(self, node, depth: int) -> None:
        """Find commands inside a word: substitutions run before the command does."""
        if depth > MAX_TREE_DEPTH:
            raise Unparsable("the command is nested too deeply")
        if node.type in ("command_substitution", "process_substitution"):
            self.visit_children(node, depth + 1)
        elif node.type == "ERROR":
            self.visit(node, depth + 1)
        elif node.named_child_count:
            for child in node.named_children:
                self.visit_words(child, depth + 1)

    def assignment(self, node, depth: int) -> tuple[str, str]:
        name_node = node.named_children[0] if node.named_children else None
        name = self.text(name_node) if name_node is not None else ""
        value = ""
        for child in node.named_children[1:]:
            self.visit_words(child, depth)
            value = self.word(child)[0]
        return name, value

    def bare_assignment(self, nodes, depth: int) -> None:
        assigns = [self.assignment(n, depth) for n in nodes]
        self.record_assignments(assigns, exported=False)
        self.commands.append(Command(tuple(f"{n}={v}" for n, v in assigns), kind="assign", assigns=tuple(assigns)))

    def record_assignments(self, assigns, exported: bool) -> None:
        if exported:
            self.exported.update(assigns)

    def declaration(self, node, depth: int) -> None:
        """export/declare/local/readonly/typeset/unset: kept as a command for tamper checks."""
        words = [self.text(node.children[0])] if node.children else []
        assigns = []
        for child in node.named_children:
            if child.type == "variable_assignment":
                name, value = self.assignment(child, depth)
                assigns.append((name, value))
                words.append(f"{name}={value}")
            else:
                self.visit_words(child, depth)
                words.append(self.word(child)[0])
        flags = "".join(w for w in words[1:] if w.startswith("-"))
        if words and (words[0] == "export" or "x" in flags):
            self.exported.update(assigns)
        self.commands.append(Command(tuple(words), dynamic=tuple(False for _ in words), assigns=tuple(assigns)))

    def function(self, node, depth: int) -> None:
        name_node = next((c for c in node.named_children if c.type == "word"), None)
        name = self.word(name_node)[0] if name_node is not None else ""
        self.commands.append(Command((name,), kind="function"))
        for child in node.named_children:
            if child is not name_node:
                self.visit(child, depth + 1)


def _is_field(parent, child, field: str) -> bool:
    return any(c.start_byte == child.start_byte and c.end_byte == child.end_byte
               for c in parent.children_by_field_name(field))


def _redirect_args(redirect) -> list:
    """Words tree-sitter hangs on a redirect that bash gives to the command as arguments.

    Bash takes one word as a redirect's target; every later word is an argument, wherever it
    stands (`rm 2>/dev/null -rf ~` is `rm -rf ~`). tree-sitter-bash lists them as extra
    destinations, or as arguments of a heredoc redirect.
    """
    if redirect.type == "file_redirect":
        return list(redirect.children_by_field_name("destination")[1:])
    if redirect.type == "heredoc_redirect":
        nested = [w for c in redirect.named_children if c.type == "file_redirect" for w in _redirect_args(c)]
        return list(redirect.children_by_field_name("argument")) + nested
    return []


def _unescape_heredoc(text: str) -> str:
    return re.sub(r"\\([$`\\\n])", lambda m: "" if m.group(1) == "\n" else m.group(1), text)


def _output_of(argv, dynamic, stdin_text):
    """What a command writes on stdout, when that is known from its words: (text, producer)."""
    name = argv[0].rsplit("/", 1)[-1]
    if any(dynamic):
        return (None, name)
    if name == "echo":
        args = list(argv[1:])
        while args and args[0] in ("-n", "-e", "-E", "-ne", "-en"):
            args.pop(0)
        return (" ".join(args) + "\n", None)
    if name == "printf" and len(argv) >= 2:
        fmt = argv[1] if argv[1] != "--" else (argv[2] if len(argv) > 2 else "")
        rest = list(argv[2:] if argv[1] != "--" else argv[3:])
        text = _ansi_c(fmt.replace("%%", "\0")).replace("\0", "%")
        if "%" in text:
            text = re.sub(r"%[-+ #0]*\d*(?:\.\d+)?[sbdqc]", lambda m: rest.pop(0) if rest else "", text)
        return (text, None)
    if name == "cat" and len(argv) == 1 and stdin_text is not None:
        return (stdin_text, None)
    if name == "cat" and len(argv) > 1:
        return (None, "file")
    return (None, name)
