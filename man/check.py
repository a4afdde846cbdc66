#!/usr/bin/env python3
"""Keeps the manual pages true to what an install of the build tree provides.

Usage: check.py lint|complete|examples|selftest BUILD_DIR

Each check installs BUILD_DIR into a scratch prefix (`cmake --install`) and then
reads only the installed copy:

  lint      mandoc -Tlint and groff -ww report nothing on any installed page
            (cross references are resolved against the installed pages and the
            system's).
  complete  every tf_ function the installed libtempfile.so exports (nm -D)
            opens a page with `man -M`; that page's NAME lists it, its SYNOPSIS
            shows the installed header's prototype, and its ERRORS names every
            errno value listed next to the declaration and every call whose
            errors the declaration inherits; every TF_ constant, public struct
            and field of the header appears in some page; every installed
            command has a section 1 page naming each of its commands and long
            options (from its --help).
  examples  every program of an EXAMPLES section, extracted from the page
            source, compiles against the installed header and library
            (pkg-config) with warnings as errors, exits 0 and leaves its TMPDIR
            empty.
  selftest  each check above fails, naming the fault, on a damaged install.
"""
import os
import re
import shutil
import subprocess
import sys
import tempfile

# mdoc/roff escapes that EXAMPLES programs may use, and what they stand for.
ESCAPES = {r"\e": "\\", r"\&": "", r"\(aq": "'", r"\(dq": '"', r"\-": "-",
           r"\(ga": "`", r"\(ti": "~", r"\(ha": "^"}
EXPORT_MACRO = "TF_API"


def run(cmd, **kw):
    return subprocess.run(cmd, capture_output=True, text=True, **kw)


class Install:
    """A scratch `cmake --install` of the build tree and where its parts are."""

    def __init__(self, build):
        self.build = os.path.abspath(build)
        self.root = tempfile.mkdtemp(prefix="tf-man-")
        self.prefix = os.path.join(self.root, "prefix")
        r = run(["cmake", "--install", self.build, "--prefix", self.prefix])
        if r.returncode:
            sys.exit("cmake --install failed:\n" + r.stdout + r.stderr)
        self.mandir = os.path.join(self.prefix, self.cache("CMAKE_INSTALL_MANDIR") or "share/man")
        self.header = os.path.join(self.prefix, self.cache("CMAKE_INSTALL_INCLUDEDIR") or "include",
                                   "tempfile.h")
        pcs = [os.path.join(d, f) for d, _, fs in os.walk(self.prefix) for f in fs
               if f == "tempfile.pc"]
        if not pcs:
            sys.exit("tempfile.pc is not installed")
        self.pkgconfig = os.path.dirname(pcs[0])
        self.libdir = os.path.dirname(self.pkgconfig)
        self.bindir = os.path.join(self.prefix, self.cache("CMAKE_INSTALL_BINDIR") or "bin")

    def cache(self, key):
        with open(os.path.join(self.build, "CMakeCache.txt")) as f:
            for line in f:
                m = re.match(re.escape(key) + r":[A-Z]*=(.*)", line)
                if m:
                    return m.group(1)
        return ""

    def pages(self):
        """Every installed page that is a file (not a link name), sorted."""
        out = []
        for d, _, fs in os.walk(self.mandir):
            out += [os.path.join(d, f) for f in fs
                    if re.search(r"\.[1-9]$", f) and not os.path.islink(os.path.join(d, f))]
        return sorted(out)

    def cleanup(self):
        shutil.rmtree(self.root, ignore_errors=True)


def render(page):
    """The page as a reader sees it: plain text, no overstrike."""
    r = run(["mandoc", "-Tascii", "-O", "width=78", page])
    return re.sub(".\b", "", r.stdout)


def sections(text):
    """{SECTION NAME: body} of a rendered page."""
    out, name = {}, None
    for line in text.splitlines():
        if re.match(r"^[A-Z][A-Z ]*$", line):
            name = line.strip()
            out[name] = ""
        elif name:
            out[name] += line + "\n"
    return out


def words(text):
    return set(re.findall(r"[A-Za-z0-9_]+", text))


def squash(text):
    """A C declaration with its spacing made canonical."""
    text = re.sub(r"\s+", " ", text).strip()
    text = re.sub(r"\s*([(),;])\s*", r"\1", text)
    text = re.sub(r"\*\s+", "*", text)
    return text.replace(",", ", ")


# --------------------------------------------------------------- the header

def strip_attributes(text):
    while True:
        i = text.find("__attribute__")
        if i < 0:
            return text
        depth, j = 0, text.index("(", i)
        while True:
            depth += {"(": 1, ")": -1}.get(text[j], 0)
            j += 1
            if depth == 0:
                break
        text = text[:i] + text[j:]


def comment_spans(src):
    return [m.span() for m in re.finditer(r"/\*.*?\*/", src, re.S)]


def parse_header(path, errno_names):
    """[(name, prototype, errnos, inherited calls)] for every exported call,
    from the comment right before each declaration."""
    src = open(path).read()
    spans = comment_spans(src)
    calls = []
    for m in re.finditer(r"\b" + EXPORT_MACRO + r"\b([^;]*);", src):
        line_start = src.rfind("\n", 0, m.start()) + 1
        if "#" in src[line_start:m.start()] or any(a <= m.start() < b for a, b in spans):
            continue
        # Markers (TF_ words) may stand before or after the export macro.
        decl = re.sub(r"\bTF_[A-Z0-9_]+\b(\s*\([^()]*\))?", "", strip_attributes(m.group(1)))
        name = re.search(r"\b(tf_[a-z0-9_]+)\s*\(", decl)
        if not name:
            continue
        before = re.sub(r"(?:\s*\bTF_[A-Z0-9_]+)*\s*$", "", src[:m.start()])
        comment = before[before.rfind("/*"):] if before.endswith("*/") else ""
        errnos = set(re.findall(r"\bE[A-Z0-9]+\b", comment)) & errno_names
        errors_part = comment.split("Errors:", 1)[1] if "Errors:" in comment else ""
        inherited = set(re.findall(r"\b(tf_[a-z0-9_]+)\(\)", errors_part)) - {name.group(1)}
        calls.append((name.group(1), squash(decl), errnos, inherited))
    return calls


def struct_fields(text):
    """{struct type: [field, ...]} of the typedef'd structs in C text."""
    fields = {}
    for body, tname in re.findall(r"typedef\s+struct\s+\w*\s*\{(.*?)\}\s*(\w+)\s*;", text, re.S):
        body = re.sub(r"/\*.*?\*/", "", body, flags=re.S)
        for decl in body.split(";"):
            f = re.findall(r"\(\s*\*\s*(\w+)\s*\)|(\w+)\s*(?:\[[^]]*\])?\s*$", decl.strip())
            if f:
                fields.setdefault(tname, []).append(f[0][0] or f[0][1])
    return fields


def header_names(path):
    """TF_ constants, public struct types and their fields."""
    src = re.sub(r"/\*.*?\*/", "", open(path).read(), flags=re.S)
    consts = set(re.findall(r"^\s*#\s*define\s+(TF_[A-Z0-9_]+)", src, re.M))
    for body in re.findall(r"\benum\b[^{;]*\{(.*?)\}", src, re.S):
        consts |= set(re.findall(r"\b(TF_[A-Z0-9_]+)\s*[=,}]", body + "}"))
    consts.discard(EXPORT_MACRO)
    fields = struct_fields(src)
    types = set(re.findall(r"typedef\s+struct\s+\w+\s+(tf_\w+)\s*;", src)) | set(fields)
    types |= set(re.findall(r"\benum\s+(tf_\w+)", src))
    return consts, types, fields


def errno_names():
    r = run(["cc", "-E", "-dM", "-"], input="#include <errno.h>\n")
    return set(re.findall(r"^#define (E[A-Z0-9]+) ", r.stdout, re.M))


def exported_functions(inst):
    libs = [os.path.join(inst.libdir, f) for f in os.listdir(inst.libdir)
            if re.match(r"libtempfile\.so(\.\d+)+$", f)]
    if not libs:
        return None
    r = run(["nm", "-D", "--defined-only", libs[0]])
    return sorted(n for n in re.findall(r"^\S+ [TWi] (tf_[a-z0-9_]+)$", r.stdout, re.M)
                  if not n.startswith("tf__"))


# ------------------------------------------------------------------- checks

def check_lint(inst):
    problems = []
    pages = inst.pages()
    if not pages:
        return ["no manual page is installed under " + inst.mandir]
    # mandoc -Wstyle resolves .Xr along -M: the installed pages (indexed
    # here), then the system's.
    run(["makewhatis", inst.mandir])
    search = inst.mandir + ":" + (run(["manpath"]).stdout.strip() or "/usr/share/man")
    # A machine whose packages come without manuals (path-exclude in dpkg's
    # configuration) cannot resolve references to the system's pages.
    system_pages_absent = run(["man", "-w", "2", "open"]).returncode != 0
    if system_pages_absent:
        print("no system manual pages here: references to them are not checked")
    for page in pages:
        for cmd in (["mandoc", "-Tlint", "-Wstyle", "-M", search, page],
                    ["groff", "-mandoc", "-Tutf8", "-ww", "-z", page]):
            r = run(cmd)
            msg = (r.stdout + r.stderr).strip()
            msg = "\n".join(l for l in msg.splitlines() if "outdated mandoc.db" not in l
                            and not (system_pages_absent and foreign_reference(l, inst)))
            if msg or r.returncode:
                problems.append("%s on %s:\n%s" % (cmd[0], os.path.basename(page), msg))
    return problems


def foreign_reference(message, inst):
    """A mandoc message that a referenced page outside this install is missing."""
    m = re.search(r"referenced manual not found: Xr (\S+) (\S+)", message)
    return bool(m) and not os.path.exists(os.path.join(inst.mandir, "man" + m.group(2),
                                                       m.group(1) + "." + m.group(2)))


def calls_table(inst, overview):
    """{call: page file} from the rows "tf_x()   tf_y(3)" of tempfile(3)."""
    rows = re.findall(r"^\s+(tf_\w+)\(\)\s+(\w+)\(3\)\s*$", render(overview), re.M)
    return {call: os.path.basename(os.path.realpath(os.path.join(inst.mandir, "man3", page + ".3")))
            for call, page in rows}


def header_calls(header):
    """{name: (name, prototype, errnos, inherited)}; a call declared twice
    (early, so that an attribute can name it) lists its errors at either."""
    calls = {}
    for name, proto, errnos, inherited in parse_header(header, errno_names()):
        old = calls.get(name, (name, proto, set(), set()))
        calls[name] = (name, proto, old[2] | errnos, old[3] | inherited)
    return calls


def check_stale_names(inst, exported, overview, problems):
    """Every section 3 page or link names an exported call or the overview."""
    overview_names = words(sections(render(overview)).get("NAME", "")) if overview else set()
    # Calls the header defines inline are documented but not exported.
    overview_names |= set(re.findall(r"\bstatic\s+inline\s+[\w\s*]*?\b(tf_[a-z0-9_]+)\s*\(",
                                     open(inst.header).read()))
    for link in sorted(os.listdir(os.path.join(inst.mandir, "man3"))):
        name = link[:-2]
        if link.endswith(".3") and name not in exported and name not in overview_names:
            problems.append("%s: a page or link name for a call the library does not export"
                            % link)


def check_calls(inst, problems):
    exported = exported_functions(inst)
    if exported is None:
        return problems.append("libtempfile.so is not installed in " + inst.libdir)
    if not exported:
        problems.append("nm -D finds no tf_ function in the installed library")
    calls = header_calls(inst.header)
    overview = os.path.join(inst.mandir, "man3", "tempfile.3")
    listed = calls_table(inst, overview) if os.path.exists(overview) else {}
    check_stale_names(inst, exported, overview if listed else None, problems)
    for name in sorted(set(exported) | set(calls)):
        if name not in exported:
            problems.append("%s: declared in the header but not exported" % name)
            continue
        link = os.path.join(inst.mandir, "man3", name + ".3")
        if not os.path.exists(link):
            problems.append("%s: no page or link name %s" % (name, link))
            continue
        r = run(["man", "-M", inst.mandir, "-w", "3", name])
        if r.returncode or os.path.realpath(r.stdout.strip()) != os.path.realpath(link):
            problems.append("%s: `man -M %s 3 %s` does not open %s" % (name, inst.mandir, name, link))
        page = os.path.basename(os.path.realpath(link))
        if name not in listed:
            problems.append("%s: not in the table of calls of tempfile(3)" % name)
        elif listed[name] != page:
            problems.append("%s: tempfile(3) sends it to %s, its page is %s"
                            % (name, listed[name], page))
        secs = sections(render(link))
        if name not in words(secs.get("NAME", "")):
            problems.append("%s: its page %s does not list it in NAME" % (name, page))
        if name not in calls:
            problems.append("%s: exported but not declared in the installed header" % name)
            continue
        _, proto, errnos, inherited = calls[name]
        if proto + ";" not in squash(secs.get("SYNOPSIS", "")):
            problems.append("%s: SYNOPSIS of %s lacks the header's prototype: %s;"
                            % (name, page, proto))
        errors = words(secs.get("ERRORS", ""))
        for e in sorted(errnos - errors):
            problems.append("%s: %s is listed in the header but not in ERRORS of %s" % (name, e, page))
        for c in sorted(inherited - errors):
            problems.append("%s: ERRORS of %s does not name %s, whose errors it inherits"
                            % (name, page, c))


def check_names(inst, problems):
    everything = set()
    consts, types, fields = header_names(inst.header)
    for page in inst.pages():
        text = render(page)
        everything |= words(text)
        # A structure a page shows must be the header's, field for field.
        for t, shown in struct_fields(text).items():
            if t in fields and shown != fields[t]:
                problems.append("%s shows %s { %s } but the header has { %s }"
                                % (os.path.basename(page), t, ", ".join(shown), ", ".join(fields[t])))
    for c in sorted(consts - everything):
        problems.append("%s: a constant of the header that no page mentions" % c)
    for t in sorted(types - everything):
        problems.append("%s: a type of the header that no page mentions" % t)
    for t in sorted(fields):
        for f in sorted(set(fields[t]) - everything):
            problems.append("%s.%s: a field of the header that no page mentions" % (t, f))


def help_of(cmd):
    r = run(cmd, timeout=60)
    return r.stdout + r.stderr


def command_surface(binary):
    """The commands and long options a program's --help shows (and, for each
    command, `prog COMMAND --help`)."""
    top = help_of([binary, "--help"])
    commands, in_list = [], False
    for line in top.splitlines():
        if re.match(r"^\s*commands?\s*:?\s*$", line, re.I):
            in_list = True
        elif in_list:
            m = re.match(r"^\s+([a-z][a-z0-9-]*)", line)
            if m:
                commands.append(m.group(1))
            elif line.strip():
                in_list = False
    text = top + "".join(help_of([binary, c, "--help"]) for c in commands)
    options = set(re.findall(r"(?<![\w-])(--[a-z0-9][a-z0-9-]*)", text))
    return commands, sorted(options)


def list_items(page):
    """The lines of a page's source that head a list item or a subsection."""
    out, lines = [], open(page).read().splitlines()
    for i, line in enumerate(lines):
        if re.match(r"^\.(It|Ss|SS|IP)\b", line):
            out.append(line)
        elif line.startswith(".TP") and i + 1 < len(lines):
            out.append(lines[i + 1])
    return out


def check_commands(inst, problems):
    if not os.path.isdir(inst.bindir):
        return
    for prog in sorted(os.listdir(inst.bindir)):
        path = os.path.join(inst.bindir, prog)
        target = os.path.realpath(path)
        if os.path.islink(path) and os.path.dirname(target) == os.path.realpath(inst.bindir):
            # A multi-call name (mktemp -> tmpf): the target's page tells of it.
            page = os.path.join(inst.mandir, "man1", os.path.basename(target) + ".1")
            if os.path.exists(page) and prog not in words(render(page)):
                problems.append("%s: a link to %s that %s.1 does not mention"
                                % (prog, os.path.basename(target), os.path.basename(target)))
            continue
        page = os.path.join(inst.mandir, "man1", prog + ".1")
        if not os.path.exists(page):
            problems.append("%s: an installed command without a page %s" % (prog, page))
            continue
        text = render(page)
        tokens = set(re.findall(r"(?<![\w-])(--?[a-z0-9][a-z0-9-]*|[a-z][a-z0-9-]*)", text))
        commands, options = command_surface(os.path.join(inst.bindir, prog))
        headed = list_items(page)
        for c in commands:
            if not any(re.search(r"(?<![\w-])" + re.escape(c) + r"(?![\w-])", h) for h in headed):
                problems.append("%s: command %s is not in %s.1 (as a list item or a subsection)"
                                % (prog, c, prog))
        for o in options:
            if o not in tokens:
                problems.append("%s: option %s is not in %s.1" % (prog, o, prog))


SECTIONS = {
    "1": ["NAME", "SYNOPSIS", "DESCRIPTION", "ENVIRONMENT", "EXIT STATUS", "EXAMPLES",
          "SEE ALSO"],
    "3": ["NAME", "LIBRARY", "SYNOPSIS", "DESCRIPTION", "NOTES", "RETURN VALUES", "EXAMPLES",
          "ERRORS", "SEE ALSO"],
    "tempfile.3": ["NAME", "LIBRARY", "SYNOPSIS", "DESCRIPTION", "EXAMPLES", "SEE ALSO"],
}


def check_sections(inst, problems):
    for page in inst.pages():
        base = os.path.basename(page)
        want = SECTIONS.get(base) or SECTIONS.get(base[-1], [])
        have = sections(render(page))
        for sec in want:
            if sec not in have:
                problems.append("%s: no %s section" % (base, sec))


def check_complete(inst):
    problems = []
    check_sections(inst, problems)
    check_calls(inst, problems)
    check_names(inst, problems)
    check_commands(inst, problems)
    return problems


def unescape(line, where):
    def one(m):
        if m.group(0) not in ESCAPES:
            raise ValueError("%s: an escape the extraction does not know: %s" % (where, m.group(0)))
        return ESCAPES[m.group(0)]
    return re.sub(r"\\(\(..|\[[^]]*\]|.)", one, line)


def example_programs(page):
    """[(label, C source)] of the programs in a page's EXAMPLES section."""
    progs, block, in_examples = [], None, False
    for n, line in enumerate(open(page).read().splitlines(), 1):
        if re.match(r"^\.S[Hh] ", line):
            in_examples = line.split(None, 1)[1].strip('"') == "EXAMPLES"
        elif in_examples and re.match(r"^\.Bd -literal", line):
            block, start = [], n
        elif block is not None and line.startswith(".Ed"):
            src = "\n".join(block) + "\n"
            if re.search(r"\bmain\s*\(", src):
                progs.append(("%s:%d" % (os.path.basename(page), start), src))
            block = None
        elif block is not None:
            block.append(unescape(line, "%s:%d" % (os.path.basename(page), n)))
    return progs


def check_examples(inst):
    problems, count = [], 0
    cc = inst.cache("CMAKE_C_COMPILER") or "cc"
    sanitize = inst.cache("TF_SANITIZE")
    flags = ["-fsanitize=" + sanitize, "-fno-omit-frame-pointer"] if sanitize else []
    env = dict(os.environ, PKG_CONFIG_PATH=inst.pkgconfig, LD_LIBRARY_PATH=inst.libdir)
    pc = run(["pkg-config", "--cflags", "--libs", "tempfile"], env=env)
    if pc.returncode:
        return ["pkg-config tempfile: " + pc.stderr]
    for page in inst.pages():
        try:
            progs = example_programs(page)
        except ValueError as e:
            problems.append(str(e))
            continue
        if page.endswith(".3") and not progs:
            problems.append("%s: no program in EXAMPLES" % os.path.basename(page))
        for label, src in progs:
            count += 1
            work = tempfile.mkdtemp(dir=inst.root)
            c, exe, tmp = (os.path.join(work, x) for x in ("prog.c", "prog", "tmp"))
            os.mkdir(tmp)
            open(c, "w").write(src)
            r = run([cc, "-std=c11", "-Wall", "-Wextra", "-Werror"] + flags
                    + ["-o", exe, c] + pc.stdout.split() + ["-lpthread"], env=env)
            if r.returncode:
                problems.append("%s: does not compile:\n%s" % (label, r.stderr))
                continue
            try:
                r = run([exe], env=dict(env, TMPDIR=tmp), cwd=work, timeout=120)
            except subprocess.TimeoutExpired:
                problems.append("%s: still running after 120 s" % label)
                continue
            if r.returncode:
                problems.append("%s: exit status %d\n%s%s" % (label, r.returncode, r.stdout, r.stderr))
            left = os.listdir(tmp)
            if left:
                problems.append("%s: left %s in its TMPDIR" % (label, " ".join(sorted(left))))
    print("%d EXAMPLES programs compiled and run" % count)
    return problems


# ----------------------------------------------------------------- selftest

def edit(path, old, new, count=1):
    text = open(path).read()
    if old not in text:
        raise AssertionError("selftest: %r not in %s" % (old, path))
    open(path, "w").write(text.replace(old, new, count))


def add_errno(header, name, errno):
    """Adds errno to the comment before name's declaration."""
    src = open(header).read()
    decl = re.search(r"\b" + EXPORT_MACRO + r"\b[^;]*?\b" + name + r"\s*\(", src)
    end = src.rfind("*/", 0, decl.start())
    open(header, "w").write(src[:end] + " Errors: " + errno + ". " + src[end:])


def declaration_edit(header, name, first_parameter):
    """Puts first_parameter in front of name's declared parameters."""
    src = open(header).read()
    decl = re.search(r"\b" + EXPORT_MACRO + r"\b[^;]*?\b" + name + r"\s*\(", src)
    open(header, "w").write(src[:decl.end()] + first_parameter + src[decl.end():])


def fake_command(inst):
    """A tmpf whose --help shows a command and an option no page names."""
    os.makedirs(inst.bindir, exist_ok=True)
    prog = os.path.join(inst.bindir, "tmpf")
    with open(prog, "w") as f:
        f.write('#!/bin/sh\n[ "$1" = selftestcmd ] && { echo "  --selftest-option"; exit 0; }\n'
                'printf "usage: tmpf COMMAND\\n\\ncommands:\\n  selftestcmd  x\\n"\n')
    os.chmod(prog, 0o755)
    page = os.path.join(inst.mandir, "man1", "tmpf.1")
    if not os.path.exists(page):
        os.makedirs(os.path.dirname(page), exist_ok=True)
        with open(page, "w") as f:
            f.write(".Dd December 1, 2026\n.Dt TMPF 1\n.Os\n.Sh NAME\n.Nm tmpf\n"
                    ".Nd temporary files\n.Sh DESCRIPTION\nNothing.\n")


def check_selftest(inst):
    """Damages the scratch install in ways that must each be reported."""
    problems = []
    man3 = os.path.join(inst.mandir, "man3")
    calls = parse_header(inst.header, errno_names())
    exported = set(exported_functions(inst) or ())
    link = next(n[:-2] for n in sorted(os.listdir(man3))
                if os.path.islink(os.path.join(man3, n)) and n[:-2] in exported)
    first = next(c for c in calls if c[2])
    with_args = next(c for c in calls if not c[1].endswith("(void)"))
    first_page = os.path.realpath(os.path.join(man3, first[0] + ".3"))
    errno_gone = sorted(first[2])[0]
    end = "#endif /* TEMPFILE_H */"
    overview = os.path.join(man3, "tempfile.3")
    row = re.search(r"^\.It Fn (tf_\w+) Ta .*\n", open(overview).read(), re.M).group(1, 0)
    cases = [
        ("a link name removed", check_complete, link + ": no page",
         lambda: os.unlink(os.path.join(man3, link + ".3"))),
        ("a link name for a call that is gone", check_complete,
         "tf_selftest_gone.3: a page or link name for a call the library does not export",
         lambda: os.symlink("tempfile.3", os.path.join(man3, "tf_selftest_gone.3"))),
        ("a call left out of tempfile(3)", check_complete,
         row[0] + ": not in the table of calls of tempfile(3)",
         lambda: edit(overview, row[1], "")),
        ("an errno dropped from ERRORS", check_complete, errno_gone + " is listed",
         lambda: edit(first_page, errno_gone, "E" + "X" * (len(errno_gone) - 1), count=-1)),
        ("an errno added in the header", check_complete, "ENOTRECOVERABLE is listed",
         lambda: add_errno(inst.header, first[0], "ENOTRECOVERABLE")),
        ("a prototype changed", check_complete, with_args[0] + ": SYNOPSIS",
         lambda: declaration_edit(inst.header, with_args[0], "int selftest, ")),
        ("a constant added", check_complete, "TF_SELFTEST_CONSTANT",
         lambda: edit(inst.header, end, "#define TF_SELFTEST_CONSTANT 1\n" + end)),
        ("a struct field added", check_complete, "tf_opts.selftest_field",
         lambda: edit(inst.header, "} tf_opts;", "int selftest_field; } tf_opts;")),
        ("a struct shown with a field the header lacks", check_complete,
         "tempfile.3 shows tf_opts {",
         lambda: edit(overview, "} tf_opts;", "    int gone;\n} tf_opts;")),
        ("an undocumented command", check_complete, "command selftestcmd is not in",
         lambda: fake_command(inst)),
        ("an undocumented option", check_complete, "option --selftest-option is not in",
         lambda: fake_command(inst)),
        ("a section missing", check_complete, os.path.basename(first_page) + ": no NOTES",
         lambda: edit(first_page, "\n.Sh NOTES\n", "\n.Pp\n")),
        ("a bad macro in a page", check_lint, "mandoc on",
         lambda: edit(first_page, "\n.Sh DESCRIPTION\n", "\n.Sh DESCRIPTION\n.Xx bogus\n")),
        ("an example that fails", check_examples, "exit status 3",
         lambda: edit(first_page, "\n.Sh EXAMPLES\n",
                      "\n.Sh EXAMPLES\n.Bd -literal\nint main(void) { return 3; }\n.Ed\n")),
    ]
    for label, check, expect, damage in cases:
        backup = os.path.join(inst.root, "backup")
        shutil.copytree(inst.prefix, backup, symlinks=True)
        damage()
        found = check(inst)
        shutil.rmtree(inst.prefix)
        os.rename(backup, inst.prefix)
        if any(expect in p for p in found):
            print("selftest: %s: reported" % label)
        else:
            problems.append("selftest: %s: not reported (wanted %r in: %s)"
                            % (label, expect, found))
    return problems


TOOLS = {"lint": ["cmake", "mandoc", "makewhatis", "groff", "man"],
         "complete": ["cmake", "mandoc", "man", "nm", "cc"],
         "examples": ["cmake", "pkg-config"],
         "selftest": ["cmake", "mandoc", "makewhatis", "groff", "man", "nm", "cc", "pkg-config"]}
CHECKS = {"lint": check_lint, "complete": check_complete, "examples": check_examples,
          "selftest": check_selftest}


def main():
    if len(sys.argv) != 3 or sys.argv[1] not in CHECKS:
        sys.exit(__doc__)
    missing = [t for t in TOOLS[sys.argv[1]] if not shutil.which(t)]
    if missing:
        sys.exit("man %s: %s not installed (scripts/test installs them: Debian packages "
                 "mandoc groff-base man-db binutils pkg-config)" % (sys.argv[1], " ".join(missing)))
    inst = Install(sys.argv[2])
    try:
        problems = CHECKS[sys.argv[1]](inst)
    finally:
        inst.cleanup()
    for p in problems:
        print(p, file=sys.stderr)
    print("man %s: %s" % (sys.argv[1], "%d problems" % len(problems) if problems else "ok"))
    sys.exit(1 if problems else 0)


if __name__ == "__main__":
    main()
