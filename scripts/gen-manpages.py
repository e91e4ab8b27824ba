#!/usr/bin/env python3
"""Man pages for ecmpd and every subcommand, from the argument parser.

swift-argument-parser's generate-manual plugin is in the package set, but it
builds every product of the package again in its own configuration (not the
--static-swift-stdlib release build the package ships) just to run the
binary once. The binary already describes itself: `ecmpd
--experimental-dump-help` prints the parser's ToolInfo JSON, and this turns
it into one page per command, ecmpd(8) and ecmpd-SUBCOMMAND(8).

usage: gen-manpages.py ECMPD OUTDIR
"""
import json
import os
import subprocess
import sys

SECTION = "8"


def roff(text):
    lines = []
    for line in (text or "").splitlines():
        line = line.replace("\\", "\\e")
        if line.startswith((".", "'")):
            line = "\\&" + line
        lines.append(line)
    return "\n".join(lines)


def spelling(argument):
    names = []
    for name in argument.get("names", []):
        if name["kind"] == "long":
            names.append("--" + name["name"])
        elif name["kind"] == "short":
            names.append("-" + name["name"])
        else:
            names.append("-" + name["name"])
    if argument["kind"] == "positional":
        return "<%s>" % argument.get("valueName", "value")
    text = ", ".join("\\fB%s\\fR" % n for n in names)
    if argument["kind"] == "option":
        text += " \\fI<%s>\\fR" % argument.get("valueName", "value")
    return text


def page(command, path, version, date):
    name = "-".join(path)
    title = name.upper()
    out = ['.TH "%s" "%s" "%s" "ecmpd %s" "ecmpd"' % (title, SECTION, date, version)]
    out += [".SH NAME", "%s \\- %s" % (name.replace("-", "\\-"), roff(command.get("abstract", "")))]
    arguments = [a for a in command.get("arguments", []) if a.get("shouldDisplay", True)]
    synopsis = " ".join(path)
    if command.get("subcommands"):
        synopsis += " <subcommand>"
    for argument in arguments:
        part = spelling(argument)
        synopsis += " " + (part if not argument.get("isOptional") else "[%s]" % part)
    # spelling() already yields roff font escapes: not through roff() again.
    out += [".SH SYNOPSIS", ".B " + " ".join(path), synopsis[len(" ".join(path)):].strip()]
    if command.get("discussion"):
        out += [".SH DESCRIPTION", roff(command["discussion"])]
    if arguments:
        out.append(".SH OPTIONS")
        for argument in arguments:
            out += [".TP", spelling(argument)]
            text = argument.get("abstract", "")
            if argument.get("discussion"):
                text += "\n" + argument["discussion"]
            if argument.get("defaultValue") not in (None, ""):
                text += " (default: %s)" % argument["defaultValue"]
            if argument.get("allValues"):
                text += " Values: %s." % ", ".join(argument["allValues"])
            out.append(roff(text.strip()))
    subcommands = [s for s in command.get("subcommands", []) if s.get("shouldDisplay", True)]
    if subcommands:
        out.append(".SH SUBCOMMANDS")
        for sub in subcommands:
            out += [".TP", "\\fB%s\\fR" % sub["commandName"], roff(sub.get("abstract", ""))]
    related = ["-".join(path + [s["commandName"]]) for s in subcommands]
    if len(path) > 1:
        related.insert(0, "-".join(path[:-1]))
    if related:
        out += [".SH SEE ALSO", ",\n".join(".BR %s (%s)" % (r.replace("-", "\\-"), SECTION) for r in related)]
    out += [".SH EXIT STATUS", "0 on success, 1 when a problem was found, 2 on a usage error."]
    return "\n".join(out) + "\n"


def walk(command, path, outdir, version, date):
    written = []
    filename = os.path.join(outdir, "%s.%s" % ("-".join(path), SECTION))
    with open(filename, "w") as f:
        f.write(page(command, path, version, date))
    written.append(filename)
    for sub in command.get("subcommands", []):
        if sub.get("shouldDisplay", True) and sub["commandName"] != "help":
            written += walk(sub, path + [sub["commandName"]], outdir, version, date)
    return written


def main():
    ecmpd, outdir = sys.argv[1], sys.argv[2]
    info = json.loads(subprocess.run([ecmpd, "--experimental-dump-help"], check=True, capture_output=True, text=True).stdout)
    version = subprocess.run([ecmpd, "--version"], check=True, capture_output=True, text=True).stdout.strip()
    date = subprocess.run(["git", "log", "-1", "--format=%cs"], check=True, capture_output=True, text=True, cwd=os.path.dirname(os.path.abspath(__file__))).stdout.strip()
    os.makedirs(outdir, exist_ok=True)
    for filename in walk(info["command"], [info["command"]["commandName"]], outdir, version, date):
        print(filename)


if __name__ == "__main__":
    main()
