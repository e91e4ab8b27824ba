/// Turns keepalived.conf text into words, braces and locations the way
/// keepalived 2.2.x reads it (lib/parser.c, `read_line`):
///
/// - `!` and `#` start a comment anywhere outside double quotes, also right
///   after a value or a `{`; `\#` and `\!` are literal.
/// - `{` and `}` outside quotes stand on their own, so `HTTP_GET{`,
///   `url {` on one line and `{` on the next all read the same.
/// - Words are separated by blanks; `"a b"` is one word without its quotes.
/// - `include GLOB` (also `includer`, `includem`... ) may stand on any line,
///   inside blocks too; a relative glob is taken from the including file's
///   directory, which is where keepalived has `chdir`ed to by then.
/// - `@ID line` is kept only by the keepalived whose id (`-i`, by default
///   the short hostname) is ID, `@^ID line` by every other one; the importer
///   reads the file for the id it is given.
/// - `$NAME=value` defines, `$NAME` and `${NAME}` expand, on one line.
///
/// The lexer does no I/O: included files come from the importer's loader.
///
/// A file that is plainly not a keepalived config (binary data, or first
/// statements that are all unknown: /etc/shadow, /proc/self/environ, a
/// token) stops the reading with one problem, `notAConfig`, that shows
/// none of its lines (`UntrustedText`).
struct KeepalivedLexer {
    enum Token {
        case words([String], raw: String, at: KeepalivedLocation)
        case open(KeepalivedLocation)
        case close(KeepalivedLocation)
    }

    /// How deep includes may nest: deeper than any real layout.
    static let maximumIncludeDepth = 16
    /// How many included files one import reads in all, and how much text
    /// (`SourceText.maximumSize`, as for one file). Loops are caught per
    /// chain, so without a bound files that include each other by glob
    /// would be read once for every order of them (n! reads).
    static let maximumIncludedFiles = 1024

    /// keepalived's `-i` config id; nil reads as no director at all would.
    let configID: String?
    private(set) var tokens: [Token] = []
    /// Problems with their place among the tokens (see `KeepalivedImporter`
    /// for how problems from all stages are put in file order).
    private(set) var problems: [(order: Int, problem: ConfigProblem)] = []
    private var definitions: [String: String] = [:]
    private var notedConditionalLines = false
    private var includedFiles = 0
    private var includedBytes = 0
    /// Set at the first include past a limit: said once, then every
    /// include still open stops without reading more.
    private var stoppedIncluding = false
    /// The file that is not a keepalived config, once one is found; every
    /// file still open then stops reading.
    private(set) var notAConfig: ConfigProblem?
    /// The keyword before each open `{` (nil for a `{` after no keyword),
    /// so an include knows the block it is read into.
    private var openBlocks: [String?] = []
    private var lastKeyword: String?

    /// Blocks that hold lists of values (addresses, names, routes) rather
    /// than keywords. An included file there is not judged by its
    /// keywords; its lines are only ever checked for keyword spelling, so
    /// nothing of them is shown.
    static let valueListBlocks: Set<String> = [
        "virtual_ipaddress", "virtual_ipaddress_excluded", "virtual_routes", "virtual_rules", "static_ipaddress",
        "static_routes", "static_rules", "notification_email", "track_interface", "track_script", "track_process",
        "track_file", "track_bfd", "unicast_peer", "group", "interfaces", "linkbeat_interfaces",
    ]

    init(configID: String?) { self.configID = configID }

    /// Reads one file and, through `loader`, the files it includes.
    mutating func read(text: String, file: String, includeLoader loader: KeepalivedImporter.IncludeLoader) {
        read(text: text, file: file, openFiles: [file], loader: loader)
    }

    private mutating func read(
        text: String, file: String, openFiles: [String], loader: KeepalivedImporter.IncludeLoader
    ) {
        if let line = UntrustedText.binaryLine(text) {
            return refuse(file, line: line, UntrustedText.binaryReason)
        }
        let judged = openBlocks.last.flatMap { $0 }.map { !Self.valueListBlocks.contains($0) } ?? true
        var verdict = KeywordVerdict(judging: judged)
        // "\r\n" is one Character in Swift, so it must be a separator of its own.
        let physicalLines = text.split(omittingEmptySubsequences: false) { $0 == "\n" || $0 == "\r\n" }
        for (index, physical) in physicalLines.enumerated() {
            guard notAConfig == nil else { return }
            if verdict.isForeign { return refuse(file, line: verdict.firstLine, verdict.reason) }
            let at = KeepalivedLocation(file: file, line: index + 1)
            var line = Self.decomment(String(physical))
            if line.unterminatedQuote { report(.error, at, nil, "a double quote is not closed on this line") }
            guard !line.text.isEmpty else { continue }

            if line.text.hasPrefix("@") {
                guard let kept = conditionalLine(line.text, at) else { continue }
                line.text = kept
            }
            if line.text.hasPrefix("$"), let (name, value) = Self.definition(line.text) {
                if value.hasSuffix("\\") {
                    report(
                        .error, at, UntrustedText.keyword("$\(name)"),
                        "multi-line definitions are not supported by the importer; expand it in the file first")
                } else {
                    definitions[name] = value
                }
                continue
            }
            if line.text.hasPrefix("~SEQ") || line.text.hasPrefix("~LST") {
                report(
                    .error, at, String(line.text.prefix(4)),
                    "generated lines are not supported by the importer; expand them in the file first")
                continue
            }
            if !definitions.isEmpty, line.text.contains("$") {
                guard let expanded = expand(line.text) else {
                    report(
                        .error, at, nil,
                        "longer than \(Self.maximumExpandedLine >> 10) KiB once definitions are expanded (definitions that expand into each other many times)"
                    )
                    continue
                }
                line.text = Self.decomment(expanded).text
                guard !line.text.isEmpty else { continue }
            }
            if let pattern = Self.includePattern(line.text) {
                include(pattern, at, openFiles: openFiles, loader: loader)
                continue
            }
            for keyword in splitBraces(line.text, at) { verdict.add(keyword, at: at.line) }
        }
        if notAConfig == nil, verdict.isForeign || verdict.allForeignSoFar {
            refuse(file, line: verdict.firstLine, verdict.reason)
        }
    }

    /// Whether a file's first statements are keepalived's: decided at the
    /// first known one, or after `UntrustedText.judgedStatements` unknown
    /// ones. A file with fewer statements, all unknown, is foreign too.
    private struct KeywordVerdict {
        var judging: Bool
        var foreign = 0
        /// The line of the first statement, where the file stops looking
        /// like a keepalived config.
        var firstLine = 1

        mutating func add(_ keyword: String, at line: Int) {
            guard judging, !isForeign else { return }
            if KeepalivedGrammar.isPlausibleStatement(keyword) {
                judging = false
            } else {
                if foreign == 0 { firstLine = line }
                foreign += 1
            }
        }

        var isForeign: Bool { judging && foreign >= UntrustedText.judgedStatements }
        var allForeignSoFar: Bool { judging && foreign > 0 }
        var reason: String {
            if isForeign { return "none of its first \(foreign) statements is a keepalived keyword" }
            return foreign == 1
                ? "its only statement is not a keepalived keyword"
                : "none of its \(foreign) statements is a keepalived keyword"
        }
    }

    /// Stops the import at `file`: one problem, no line of it.
    private mutating func refuse(_ file: String, line: Int, _ reason: String) {
        notAConfig = UntrustedText.notAConfig(file, line: line, "a keepalived config", reason)
        stoppedIncluding = true
    }

    // MARK: Comments and quotes

    /// The line without leading blanks, comments and trailing blanks, as
    /// keepalived's `decomment` leaves it.
    static func decomment(_ line: String) -> (text: String, unterminatedQuote: Bool) {
        var out = ""
        var inQuote = false
        var chars = Array(line.drop { $0 == " " || $0 == "\t" })
        var index = 0
        while index < chars.count {
            let c = chars[index]
            if c == "\"" {
                inQuote.toggle()
            } else if c == "\\", index + 1 < chars.count {
                let next = chars[index + 1]
                if !inQuote, next == "#" || next == "!" {
                    out.append(next)
                } else {
                    out.append(c)
                    out.append(next)
                }
                index += 2
                continue
            } else if !inQuote, c == "#" || c == "!" {
                break
            }
            out.append(c)
            index += 1
        }
        chars = Array(out)
        while let last = chars.last, last == " " || last == "\t" { chars.removeLast() }
        return (String(chars), inQuote)
    }

    /// keepalived's word splitting (`alloc_strvec_r`): blanks separate
    /// words, a double-quoted run is one word without its quotes; an
    /// unclosed quote ends the line.
    static func words(_ text: String) -> [String] {
        var words: [String] = []
        var rest = Substring(text)
        while true {
            rest = rest.drop { isBlank($0) }
            guard let first = rest.first else { break }
            if first == "\"" {
                let body = rest.dropFirst()
                guard let close = body.firstIndex(of: "\"") else { break }
                words.append(String(body[..<close]))
                rest = body[body.index(after: close)...]
            } else {
                let end = rest.firstIndex { isBlank($0) || $0 == "\"" } ?? rest.endIndex
                words.append(String(rest[..<end]))
                rest = rest[end...]
            }
        }
        return words
    }

    static func isBlank(_ c: Character) -> Bool {
        c == " " || c == "\t" || c == "\u{0C}" || c == "\u{0B}" || c == "\r" || c == "\n"
    }

    // MARK: Braces

    /// Every `{` and `}` outside quotes becomes a token of its own; the text
    /// between them becomes keyword lines. Returns the keywords of those.
    private mutating func splitBraces(_ text: String, _ at: KeepalivedLocation) -> [String] {
        var keywords: [String] = []
        var rest = Substring(text)
        while !rest.isEmpty {
            guard let brace = Self.firstBrace(in: rest) else {
                keywords += emitWords(String(rest), at)
                break
            }
            let before = rest[..<brace]
            if !before.allSatisfy(Self.isBlank) { keywords += emitWords(String(before), at) }
            if rest[brace] == "{" {
                tokens.append(.open(at))
                openBlocks.append(lastKeyword)
            } else {
                tokens.append(.close(at))
                _ = openBlocks.popLast()
            }
            lastKeyword = nil
            rest = rest[rest.index(after: brace)...].drop(while: Self.isBlank)
        }
        return keywords
    }

    static func firstBrace(in text: Substring) -> Substring.Index? {
        var inQuote = false
        for index in text.indices {
            let c = text[index]
            if c == "\"" { inQuote.toggle() } else if !inQuote, c == "{" || c == "}" { return index }
        }
        return nil
    }

    private mutating func emitWords(_ text: String, _ at: KeepalivedLocation) -> [String] {
        let trimmed = String(text.reversed().drop(while: Self.isBlank).reversed())
        // An unclosed quote was reported with the whole line (`decomment`).
        let words = Self.words(trimmed)
        guard !words.isEmpty else { return [] }
        tokens.append(.words(words, raw: trimmed, at: at))
        lastKeyword = words[0]
        return [words[0]]
    }

    // MARK: Conditional lines and definitions

    /// The line without its `@ID ` or `@^ID ` prefix when kept for this
    /// config id, else nil.
    private mutating func conditionalLine(_ text: String, _ at: KeepalivedLocation) -> String? {
        if !notedConditionalLines {
            notedConditionalLines = true
            let reading =
                configID.map { "read for keepalived id '\($0)'" }
                ?? "read for no keepalived id ('@ID' lines dropped, '@^ID' lines kept)"
            report(
                .warning, at, nil,
                "lines starting with '@' depend on keepalived's id (-i, by default the short hostname); \(reading)")
        }
        let reversed = text.hasPrefix("@^")
        let idStart = text.index(text.startIndex, offsetBy: reversed ? 2 : 1)
        guard let blank = text[idStart...].firstIndex(where: { $0 == " " || $0 == "\t" }) else { return nil }
        let matches = configID == String(text[idStart..<blank])
        guard matches != reversed else { return nil }
        let kept = text[blank...].drop { $0 == " " || $0 == "\t" }
        return kept.isEmpty ? nil : String(kept)
    }

    /// `$NAME=value`, or nil when the line is not a definition.
    static func definition(_ text: String) -> (String, String)? {
        let body = text.dropFirst()
        guard let first = body.first, first.isASCII, first.isLetter || first == "_" else { return nil }
        let name = body.prefix { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "_") }
        let afterName = body.dropFirst(name.count).drop { $0 == " " || $0 == "\t" }
        guard afterName.first == "=" else { return nil }
        let value = afterName.dropFirst().drop { $0 == " " || $0 == "\t" }
        return (String(name), String(value))
    }

    /// How long a line may grow by expanding definitions: each round may
    /// multiply it (`$B=$A $A`, `$C=$B $B`...), so without a bound sixteen
    /// rounds of a short file would take gigabytes.
    static let maximumExpandedLine = 64 << 10

    /// Replaces `$NAME` (ended by a blank, `,`, `)` or the end of the line)
    /// and `${NAME}` with their definitions; unknown names stay as written,
    /// as in keepalived. Nil when the line grows past `maximumExpandedLine`.
    private func expand(_ text: String) -> String? {
        var result = text
        for _ in 0..<16 {
            var changed = false
            var out = ""
            var rest = Substring(result)
            while let dollar = rest.firstIndex(of: "$") {
                out += rest[..<dollar]
                let after = rest[rest.index(after: dollar)...]
                var name: Substring
                var consumed: Int
                if after.first == "{" {
                    name = after.dropFirst().prefix { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "_") }
                    consumed = name.count + 2
                    if after.dropFirst(name.count + 1).first != "}" { name = "" }
                } else {
                    name = after.prefix { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "_") }
                    consumed = name.count
                    let next = after.dropFirst(name.count).first
                    if let next, !" \t,)".contains(next) { name = "" }
                }
                if !name.isEmpty, let value = definitions[String(name)] {
                    out += value
                    if out.utf8.count > Self.maximumExpandedLine { return nil }
                    rest = after.dropFirst(consumed)
                    changed = true
                } else {
                    out.append("$")
                    rest = after
                }
            }
            out += rest
            result = out
            if !changed { break }
        }
        return result
    }

    // MARK: Includes

    /// The glob of an `include` line (`include`, or `include` plus one of
    /// keepalived's r/m/w/b/a variants), or nil.
    static func includePattern(_ text: String) -> String? {
        guard text.hasPrefix("include") else { return nil }
        let rest = text.dropFirst(7)
        var pattern: Substring
        if let first = rest.first, first == " " || first == "\t" {
            pattern = rest
        } else if let variant = rest.first, "rmwba".contains(variant), let blank = rest.dropFirst().first,
            blank == " " || blank == "\t"
        {
            pattern = rest.dropFirst()
        } else {
            return nil
        }
        pattern = pattern.drop { $0 == " " || $0 == "\t" }
        return String(pattern)
    }

    /// Where keepalived looks for `pattern` written in `file`: absolute as
    /// is, relative from the including file's directory.
    static func resolve(_ pattern: String, includedFrom file: String) -> String {
        if pattern.hasPrefix("/") { return pattern }
        guard let slash = file.lastIndex(of: "/") else { return pattern }
        let directory = file[..<slash]
        return (directory.isEmpty ? "" : String(directory)) + "/" + pattern
    }

    private mutating func include(
        _ pattern: String, _ at: KeepalivedLocation, openFiles: [String], loader: KeepalivedImporter.IncludeLoader
    ) {
        guard !pattern.isEmpty else {
            report(.error, at, "include", "no file named")
            return
        }
        let path = Self.resolve(pattern, includedFrom: at.file)
        let files: [(file: String, text: String)]
        do {
            files = try loader(path)
        } catch {
            report(.error, at, "include", value: path, "\(error)")
            return
        }
        if files.isEmpty {
            report(.warning, at, "include", value: path, "matches no file; nothing included")
        }
        for included in files {
            if openFiles.contains(included.file) {
                report(
                    .error, at, "include", value: included.file,
                    "includes a file that is already being read (an include loop)")
            } else if openFiles.count >= Self.maximumIncludeDepth {
                report(
                    .error, at, "include", value: included.file,
                    "includes nest deeper than \(Self.maximumIncludeDepth) files")
            } else if stoppedIncluding {
                return
            } else if includedFiles >= Self.maximumIncludedFiles {
                report(
                    .error, at, "include", value: included.file,
                    "more than \(Self.maximumIncludedFiles) included files read in all; files probably include each other"
                )
                stoppedIncluding = true
            } else if includedBytes + included.text.utf8.count > SourceText.maximumSize {
                report(
                    .error, at, "include", value: included.file,
                    "the included files come to more than the \(SourceText.maximumSize >> 20) MiB a config may have in all"
                )
                stoppedIncluding = true
            } else {
                includedFiles += 1
                includedBytes += included.text.utf8.count
                read(text: included.text, file: included.file, openFiles: openFiles + [included.file], loader: loader)
            }
        }
    }

    private mutating func report(
        _ severity: ConfigProblem.Severity, _ at: KeepalivedLocation, _ field: String?, value: String? = nil,
        _ message: String
    ) {
        // Before the next token, after the previous one: token t's own
        // problems are ordered 2t by the translation.
        problems.append(
            (
                2 * tokens.count - 1,
                ConfigProblem(severity, file: at.file, line: at.line, field: field, value: value, message: message)
            ))
    }
}
