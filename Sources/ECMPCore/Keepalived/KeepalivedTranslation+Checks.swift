/// TCP_CHECK, HTTP_GET, SSL_GET, MISC_CHECK, UDP_CHECK, DNS_CHECK and
/// PING_CHECK blocks, and how their timing becomes an ecmpd check.
///
/// keepalived's timing (check_data.c, check_tcp.c): a checker runs every
/// `delay_loop`; a failed attempt is retried `retry` times, `delay_before_retry`
/// apart, and only when the retries are used up is the server marked down.
/// One success marks it up again. Each value comes from the checker, else the
/// real server, else the virtual server, else keepalived's default:
/// delay_loop 60 s, connect_timeout 5 s, retry 1 (MISC_CHECK 0),
/// delay_before_retry 1 s (HTTP_GET/SSL_GET 3 s); DNS_CHECK's retry is 3 and
/// its delay_before_retry the delay_loop (check_dns.c). ecmpd's `retries` counts
/// attempts, so it is keepalived's `retry` + 1, and rise = fall = 1.
extension KeepalivedTranslation {
    struct CheckDraft {
        enum Kind: Equatable {
            case tcp
            case http(tls: Bool)
            case misc
            case udp
            case dns
            case ping
        }

        var kind: Kind
        var statement: KeepalivedStatement
        var settings = CheckDefaults()
        var connectPort: Int?
        var url: URLDraft?
        var argv: [String] = []
        var miscTimeout: Int?
        var udp = UDPDraft()
        var dnsName: String?
        var dnsType: DNSRecordType?
    }

    /// check_udp.c's settings as written: no reply needed unless
    /// `require_reply`; then a reply of 0 to 255 bytes unless the lengths say otherwise.
    struct UDPDraft {
        var payload: [UInt8] = []
        var requireReply = false
        var pattern: (BytePattern, KeepalivedStatement)?
        var minimumLength: Int?
        var maximumLength: Int?
    }

    /// The DNS types check_dns.c knows (`dns_type_lookup`).
    static let keepalivedDNSTypes: [DNSRecordType] = [.a, .ns, .cname, .soa, .mx, .txt, .aaaa, .rrsig, .dnskey]
    struct URLDraft {
        var path: String
        var statusCodes: [Int]
        var digest: String?
        var host: String?
    }

    static let defaultDelayLoop = Duration.seconds(60)
    static let defaultConnectTimeout = Duration.seconds(5)
    /// Statuses keepalived accepts when a url names none.
    static let defaultStatusCodes = Array(200...299)

    /// A checker block, or nil when keepalived would not run it either.
    func readCheck(_ statement: KeepalivedStatement, _ checker: String) -> CheckDraft? {
        let grammar: KeepalivedGrammar
        var draft: CheckDraft
        switch checker {
        case "HTTP_GET", "SSL_GET":
            grammar = .httpCheck(checker)
            draft = CheckDraft(kind: .http(tls: checker == "SSL_GET"), statement: statement)
        case "MISC_CHECK":
            grammar = .miscCheck
            draft = CheckDraft(kind: .misc, statement: statement)
        case "UDP_CHECK":
            grammar = .udpCheck
            draft = CheckDraft(kind: .udp, statement: statement)
        case "DNS_CHECK":
            grammar = .dnsCheck
            draft = CheckDraft(kind: .dns, statement: statement)
        case "PING_CHECK":
            grammar = .pingCheck
            draft = CheckDraft(kind: .ping, statement: statement)
        default:
            grammar = .tcpCheck
            draft = CheckDraft(kind: .tcp, statement: statement)
        }
        guard let block = statement.block else {
            error(statement, "needs a { } block (keepalived reports a missing '{')")
            return nil
        }
        var urls: [(url: URLDraft, statement: KeepalivedStatement)] = []
        var hasPath = false
        for child in block {
            guard let setting = keyword(of: child, in: grammar) else { continue }
            switch setting {
            case "connect_port" where draft.kind == .ping:
                warn(
                    child,
                    "echo requests have no port; keepalived ignores connect_port for PING_CHECK, and so does the import"
                )
            case "connect_port":
                expectArguments(child, 1)
                if let value = number(child, range: 1...65535, what: "port") { draft.connectPort = value }
            case "payload":
                if let bytes = hexBytes(child, wildcards: false) { draft.udp.payload = bytes.bytes }
            case "require_reply":
                draft.udp.requireReply = true
                if !child.arguments.isEmpty, let pattern = hexBytes(child, wildcards: true) {
                    draft.udp.pattern = (pattern, child)
                }
            case "min_reply_length", "max_reply_length":
                expectArguments(child, 1)
                if let value = number(child, range: 0...Int(UInt16.max), what: "length in bytes") {
                    if setting == "min_reply_length" {
                        draft.udp.minimumLength = value
                    } else {
                        draft.udp.maximumLength = value
                    }
                }
            case "type":
                expectArguments(child, 1)
                guard let text = argument(child, what: "DNS type") else { continue }
                // keepalived compares with strcmp: upper case only.
                if let type = Self.keepalivedDNSTypes.first(where: { $0.description == text }) {
                    draft.dnsType = type
                } else {
                    error(
                        child, value: text,
                        "keepalived knows the DNS types \(Self.keepalivedDNSTypes.map(\.description).joined(separator: ", ")) (in capitals); it ignores this one and asks for SOA"
                    )
                }
            case "name":
                expectArguments(child, 1)
                guard let text = argument(child, what: "DNS name") else { continue }
                if draft.dnsName != nil {
                    warn(child, value: text, "keepalived keeps the first name and ignores this one; so does the import")
                    continue
                }
                do throws(DNSNameError) {
                    _ = try DNSQuestion.labels(of: text)
                    draft.dnsName = text == "." ? "" : (text.hasSuffix(".") ? String(text.dropLast()) : text)
                } catch {
                    self.error(child, value: text, "\(error)")
                }
            case "nb_get_retry":
                warn(
                    child, "deprecated: keepalived says 'nb_get_retry is deprecated - please use retry'; read as retry")
                readCheckDefault(setting, child, into: &draft.settings, minimumRetry: Self.retryRange.lowerBound)
            case "connect_timeout", "retry", "delay_before_retry", "delay_loop", "virtualhost":
                readCheckDefault(setting, child, into: &draft.settings, minimumRetry: Self.retryRange.lowerBound)
            case "url":
                if let url = readURL(child) { urls.append((url, child)) }
            case "misc_path":
                hasPath = true
                if let argv = miscCommand(child) { draft.argv = argv }
            case "misc_timeout":
                expectArguments(child, 1)
                if let value = number(child, range: 0...3600, what: "timeout in seconds") { draft.miscTimeout = value }
            case "misc_dynamic":
                warn(
                    child,
                    "with misc_dynamic keepalived took exit codes 2-255 as healthy with weight code - 2; ecmpd takes every exit code but 0 as a failure and keeps the configured weight"
                )
            default:
                break
            }
        }
        switch draft.kind {
        case .http:
            guard let first = urls.first else {
                warn(statement, "has no url with a path; keepalived ignores such a check, and so does the import")
                return nil
            }
            draft.url = first.url
            for other in urls.dropFirst() {
                warn(
                    other.statement,
                    "ecmpd checks one URL per real server, keepalived wanted every url to pass; only the url at line \(first.statement.location.line) is imported"
                )
            }
        case .misc:
            guard hasPath else {
                warn(statement, "has no misc_path; keepalived ignores such a check, and so does the import")
                return nil
            }
            guard !draft.argv.isEmpty else { return nil }
        case .udp:
            let udp = draft.udp
            if let minimum = udp.minimumLength, minimum > (udp.maximumLength ?? 255) {
                warn(
                    statement, value: "\(minimum)",
                    "min_reply_length is above max_reply_length (\(udp.maximumLength ?? 255)): keepalived's check always fails, and so does the imported one"
                )
            }
            if !udp.requireReply,
                let length = block.first(where: { ["min_reply_length", "max_reply_length"].contains($0.keyword) })
            {
                warn(length, "keepalived compares reply lengths only with require_reply; ignored, as keepalived does")
            }
        case .tcp, .dns, .ping:
            break
        }
        return draft
    }

    /// keepalived's `read_hex_str`: hex digits, blanks between bytes, and
    /// (for a reply pattern) x for any nibble.
    func hexBytes(_ statement: KeepalivedStatement, wildcards: Bool) -> BytePattern? {
        let text = statement.arguments.joined(separator: " ")
        guard !text.isEmpty else {
            error(statement, "missing the hex bytes")
            return nil
        }
        guard let pattern = BytePattern(hex: text, wildcards: wildcards) else {
            error(
                statement, value: text,
                wildcards
                    ? "expected hex bytes with x for any nibble, in pairs (0a0bxx)"
                    : "expected hex bytes in pairs (0a0b0c)")
            return nil
        }
        return pattern
    }

    func readURL(_ statement: KeepalivedStatement) -> URLDraft? {
        var path: String?
        var codes: [Int] = []
        var digest: String?
        var host: String?
        for child in statement.block ?? [] {
            guard let keyword = keyword(of: child, in: .url) else { continue }
            switch keyword {
            case "path":
                expectArguments(child, 1)
                guard let value = argument(child, what: "path") else { continue }
                if value.hasPrefix("/"),
                    !value.contains(where: { $0.isWhitespace || $0.asciiValue.map { $0 < 32 || $0 == 127 } == true })
                {
                    path = value
                } else {
                    error(child, value: value, "ecmpd requests a path that starts with '/' and has no blanks")
                }
            case "digest":
                expectArguments(child, 1)
                guard let value = argument(child, what: "MD5 digest") else { continue }
                if value.count == 32, value.allSatisfy(\.isHexDigit) {
                    digest = value.lowercased()
                } else {
                    error(child, value: value, "an MD5 digest is 32 hex digits")
                }
            case "status_code":
                codes += statusCodes(child)
            case "virtualhost":
                expectArguments(child, 1)
                host = argument(child, what: "host name")
            default:
                break
            }
        }
        guard let path else {
            warn(statement, "has no path; keepalived ignores such a url, and so does the import")
            return nil
        }
        let statusCodes = codes.isEmpty ? Self.defaultStatusCodes : Array(Set(codes)).sorted()
        return URLDraft(path: path, statusCodes: statusCodes, digest: digest, host: host)
    }

    /// `status_code 200 301-303`: codes and ranges, 100 to 599.
    func statusCodes(_ statement: KeepalivedStatement) -> [Int] {
        guard !statement.arguments.isEmpty else {
            error(statement, "missing the status code")
            return []
        }
        var codes: [Int] = []
        for text in statement.arguments {
            let bounds = text.split(separator: "-", omittingEmptySubsequences: false).map { Int($0) }
            guard (1...2).contains(bounds.count), let low = bounds.first!, let high = bounds.last!,
                (100...599).contains(low), (100...599).contains(high), low <= high
            else {
                error(statement, value: text, "expected a status code from 100 to 599 or a range such as 200-299")
                continue
            }
            codes += Array(low...high)
        }
        return codes
    }

    // MARK: MISC_CHECK commands

    /// keepalived re-reads the `misc_path` line with shell-like quoting,
    /// takes the word after the keyword and splits that once more into the
    /// argv (lib/notify.c, `set_script_params_array`). A script it finds
    /// executable is run with execve, without a shell, as ecmpd runs checks.
    func miscCommand(_ statement: KeepalivedStatement) -> [String]? {
        guard let words = Self.shellWords(statement.raw) else {
            error(statement, "a quote is not closed")
            return nil
        }
        guard words.count >= 2, let argv = Self.shellWords(words[1]), !argv.isEmpty else {
            error(statement, "missing the command")
            return nil
        }
        if words.count > 2 {
            warn(
                statement, value: words.dropFirst(2).joined(separator: " "),
                "keepalived runs only the first word after misc_path and drops these; quote the whole command (misc_path \"/path/check --flag\") to pass arguments. Imported as keepalived runs it"
            )
        }
        guard argv[0].hasPrefix("/") else {
            error(
                statement, value: argv[0],
                "ecmpd runs checks without a shell or PATH search: give the program's absolute path")
            return nil
        }
        let shells = ["/bin/sh", "/bin/bash", "/usr/bin/sh", "/usr/bin/bash", "/bin/dash", "/usr/bin/env"]
        if !shells.contains(argv[0]), let word = argv.first(where: { $0.contains(where: { "|&;<>$`()".contains($0) }) })
        {
            warn(
                statement, value: word,
                "looks like shell syntax, but ecmpd runs \(argv.count) words without a shell (as keepalived does for an executable script); write misc_path \"/bin/sh -c '...'\" if a shell is meant"
            )
        }
        return argv
    }

    /// keepalived's `alloc_strvec_quoted_escaped`: blanks separate words;
    /// '...' and "..." group; a backslash escapes the next character, with
    /// C escapes (\n, \t, \xHH, octal). Nil on an unclosed quote.
    static func shellWords(_ text: String) -> [String]? {
        var words: [String] = []
        var current = ""
        var inWord = false
        var quote: Character?
        var chars = Array(text)[...]
        while let c = chars.popFirst() {
            if c == "\\" {
                guard let next = chars.popFirst() else { return nil }
                inWord = true
                current.append(escaped(next, rest: &chars))
            } else if let open = quote {
                if c == open { quote = nil } else { current.append(c) }
            } else if c == "\"" || c == "'" {
                quote = c
                inWord = true
            } else if KeepalivedLexer.isBlank(c) {
                if inWord { words.append(current) }
                current = ""
                inWord = false
            } else {
                current.append(c)
                inWord = true
            }
        }
        if quote != nil { return nil }
        if inWord { words.append(current) }
        return words
    }

    private static func escaped(_ c: Character, rest: inout ArraySlice<Character>) -> Character {
        switch c {
        case "a": return "\u{07}"
        case "b": return "\u{08}"
        case "E": return "\u{1B}"
        case "f": return "\u{0C}"
        case "n": return "\n"
        case "r": return "\r"
        case "t": return "\t"
        case "v": return "\u{0B}"
        case "x" where rest.first?.isHexDigit == true:
            var value: UInt32 = 0
            while let digit = rest.first?.hexDigitValue {
                value = (value << 4 | UInt32(digit)) & 0xff; rest.removeFirst()
            }
            return Character(Unicode.Scalar(UInt8(value)))
        case "0"..."7":
            var value = UInt32(c.wholeNumberValue!)
            for _ in 0..<2 {
                guard let digit = rest.first?.wholeNumberValue, digit < 8 else { break }
                value = (value << 3 | UInt32(digit)) & 0xff
                rest.removeFirst()
            }
            return Character(Unicode.Scalar(UInt8(value)))
        case "c" where !rest.isEmpty:
            let control = (rest.removeFirst().asciiValue ?? 0) & 0x1f
            return Character(Unicode.Scalar(control))
        default:
            return c
        }
    }

    // MARK: Into an ecmpd check

    func healthCheck(_ draft: CheckDraft, server: CheckDefaults, virtualServer: CheckDefaults) -> HealthCheck {
        let own = draft.settings
        let interval = own.delayLoop ?? server.delayLoop ?? virtualServer.delayLoop ?? Self.defaultDelayLoop
        let defaultRetry: Int
        switch draft.kind {
        case .misc: defaultRetry = 0
        case .dns: defaultRetry = 3
        default: defaultRetry = 1
        }
        let retry = own.retry ?? server.retry ?? virtualServer.retry ?? defaultRetry
        let defaultRetryDelay: Duration
        switch draft.kind {
        case .http: defaultRetryDelay = .seconds(3)
        case .dns: defaultRetryDelay = interval
        default: defaultRetryDelay = .seconds(1)
        }
        let retryDelay =
            own.delayBeforeRetry ?? server.delayBeforeRetry ?? virtualServer.delayBeforeRetry ?? defaultRetryDelay
        var timeout =
            own.connectTimeout ?? server.connectTimeout ?? virtualServer.connectTimeout ?? Self.defaultConnectTimeout
        let kind: HealthCheck.Kind
        switch draft.kind {
        case .tcp:
            kind = .tcp
        case .http(let tls):
            let url = draft.url!
            let host = url.host ?? own.virtualhost ?? server.virtualhost ?? virtualServer.virtualhost
            kind = .http(
                HTTPCheck(
                    path: url.path, statusCodes: url.statusCodes, digest: url.digest, host: host, tls: tls,
                    verifyCertificate: false))
        case .misc:
            kind = .exec(argv: draft.argv)
            // check_misc.c: misc_timeout, else the virtual server's delay_loop.
            timeout =
                draft.miscTimeout.flatMap { $0 > 0 ? Duration.seconds($0) : nil } ?? virtualServer.delayLoop
                ?? Self.defaultDelayLoop
        case .udp:
            let udp = draft.udp
            kind = .udp(
                UDPCheck(
                    payload: udp.payload, expect: udp.requireReply ? udp.pattern?.0 : nil,
                    requireReply: udp.requireReply,
                    minimumReplyLength: udp.requireReply ? udp.minimumLength ?? 0 : 0,
                    maximumReplyLength: udp.requireReply ? udp.maximumLength ?? 255 : UDPCheck.largestReply))
        case .dns:
            kind = .dns(DNSCheck(name: draft.dnsName ?? "", type: draft.dnsType ?? .soa, rcode: .noError))
        case .ping:
            kind = .icmp
        }
        return HealthCheck(
            kind: kind, interval: interval, timeout: timeout, rise: 1, fall: 1,
            retries: retry + 1, retryDelay: retryDelay, connectPort: draft.kind == .ping ? nil : draft.connectPort)
    }
}
