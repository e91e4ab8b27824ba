/// Walks a keepalived statement tree and collects what ecmpd needs: the
/// virtual servers as services grouped by VIP, the VRRP addresses that can
/// name a fwmark service's VIP, and every problem on the way. The parts live
/// in extensions: virtual servers and real servers
/// (`KeepalivedTranslation+VirtualServer.swift`), checks
/// (`KeepalivedTranslation+Checks.swift`).
final class KeepalivedTranslation {
    /// A service and the VIP it belongs to; nil for a fwmark service, whose
    /// VIP is decided once the whole file is read.
    struct ImportedService {
        var vip: IPAddress?
        var service: VirtualService
        var statement: KeepalivedStatement
        /// The `fwmark N` line of a virtual_server_group it came from.
        var groupEntry: KeepalivedStatement?
        /// A fwmark service of `ip_family inet6`: it goes under the IPv6 fwmark VIP.
        var inet6 = false
    }

    /// One `virtual_server_group` line: an address range with a port, or a
    /// firewall mark.
    enum GroupEntry {
        case addresses([IPAddress], port: Int)
        case fwmark(UInt32, statement: KeepalivedStatement)
    }

    struct VRRPAddress {
        var address: IPv4Address
        var instance: String
        var statement: KeepalivedStatement
    }

    let fwmarkVIP: IPv4Address?
    let fwmarkVIP6: IPAddress?
    private(set) var problems: [(order: Int, problem: ConfigProblem)] = []
    var haSuspend: [KeepalivedLocation] = []
    /// How many more unknown keywords get a did-you-mean. A file with more
    /// than a hundred is not a typo, and the edit distances for every one
    /// of them made a fuzzer-found 30,000-line input take over ten seconds.
    private var suggestionsLeft = 100
    var services: [ImportedService] = []
    var groups: [String: [GroupEntry]] = [:]
    var vrrpAddresses: [VRRPAddress] = []

    init(fwmarkVIP: IPv4Address?, fwmarkVIP6: IPAddress? = nil) {
        self.fwmarkVIP = fwmarkVIP
        self.fwmarkVIP6 = fwmarkVIP6
    }

    // MARK: The top level

    /// Groups and VRRP addresses first, as keepalived links groups and
    /// virtual servers only after reading everything; then the virtual
    /// servers in file order.
    func translate(_ statements: [KeepalivedStatement]) {
        var virtualServers: [KeepalivedStatement] = []
        for statement in statements {
            guard let keyword = keyword(of: statement, in: .root) else {
                if let block = statement.block { checkCapitalisation(in: block) }
                continue
            }
            switch keyword {
            case "virtual_server_group": readGroup(statement)
            case "vrrp_instance", "vrrp_sync_group", "vrrp_script", "vrrp_track_file", "vrrp_track_process":
                warn(
                    statement, value: statement.arguments.first,
                    "not needed with OSPF ECMP: every director announces the VIP itself, so there is no VRRP master to elect; skipped"
                )
                if keyword == "vrrp_instance" { collectVRRPAddresses(statement) }
                if let block = statement.block { checkCapitalisation(in: block) }
            default: virtualServers.append(statement)
            }
        }
        virtualServers.forEach(translateVirtualServer)
    }

    /// The keyword `statement` stands for in `grammar`, or nil when the
    /// statement is not translated (after saying why).
    func keyword(of statement: KeepalivedStatement, in grammar: KeepalivedGrammar) -> String? {
        let word = statement.keyword
        if grammar.handled.contains(word) { return word }
        if let why = grammar.ignored[word] {
            warn(statement, why)
            return nil
        }
        if let right = grammar.caseVariant(of: word) {
            error(
                statement,
                "keywords are case-sensitive and keepalived does not know '\(shown(word))'; "
                    + "did you mean '\(right)'?")
            return grammar.handled.contains(right) ? right : nil
        }
        if let why = KeepalivedGrammar.removed[word] {
            warn(statement, why)
            return nil
        }
        if !KeepalivedGrammar.allKeywords.contains(word),
            let right = KeepalivedGrammar.allKeywordsByLowercase[word.lowercased()]
        {
            error(
                statement,
                "keywords are case-sensitive and keepalived does not know '\(shown(word))'; "
                    + "did you mean '\(right)'? (keepalived does not know that in \(grammar.block) either)")
            return nil
        }
        suggestionsLeft -= 1
        let suggestion = suggestionsLeft >= 0 ? Suggestion.closest(to: word, among: grammar.known.sorted()) : nil
        let hint = suggestion.map { "; did you mean '\($0)'?" } ?? ""
        let elsewhere =
            KeepalivedGrammar.allKeywords.contains(word) ? " (keepalived knows it in other blocks only)" : ""
        if statement.block != nil {
            // A block of settings would be lost with it: keepalived itself
            // reads such a block's lines as keywords of the enclosing level.
            error(statement, "unknown keyword in \(grammar.block)\(elsewhere)\(hint); its { } block cannot be imported")
        } else {
            warn(
                statement,
                "unknown keyword in \(grammar.block)\(elsewhere)\(hint); keepalived ignores it, and so does the import")
        }
        return nil
    }

    /// In blocks that are skipped as a whole, a wrongly capitalised keyword
    /// is still an error: keepalived would not know it either.
    func checkCapitalisation(in block: [KeepalivedStatement]) {
        for statement in block {
            let word = statement.keyword
            if !KeepalivedGrammar.allKeywords.contains(word),
                let right = KeepalivedGrammar.allKeywordsByLowercase[word.lowercased()]
            {
                error(
                    statement,
                    "keywords are case-sensitive and keepalived does not know '\(shown(word))'; "
                        + "did you mean '\(right)'?")
            }
            if let inner = statement.block { checkCapitalisation(in: inner) }
        }
    }

    // MARK: VIPs

    /// Services grouped by VIP, VIPs in the order they first appear.
    func vips() -> [VIPConfig] {
        let fwmarkAddress = fwmarkServicesVIP()
        let fwmark6Address = fwmark6ServicesVIP()
        var vips: [VIPConfig] = []
        var seen: [IPAddress: [ServiceListener: KeepalivedStatement]] = [:]
        for imported in services {
            guard let address = imported.vip ?? (imported.inet6 ? fwmark6Address : fwmarkAddress.map(IPAddress.v4))
            else { continue }
            if let first = seen[address]?[imported.service.listener] {
                error(
                    imported.statement, value: "\(address) \(imported.service.listener)",
                    "a second virtual_server for this VIP and \(imported.service.listener) (the first is at \(first.location))"
                )
                continue
            }
            seen[address, default: [:]][imported.service.listener] = imported.statement
            if let index = vips.firstIndex(where: { $0.address == address }) {
                vips[index].services.append(imported.service)
            } else {
                vips.append(VIPConfig(address: address, services: [imported.service]))
            }
        }
        return vips
    }

    /// The VIP for fwmark services, or nil after an error on each virtual
    /// server they come from (one error per virtual_server, naming every
    /// fwmark of a group and its line).
    func fwmarkServicesVIP() -> IPv4Address? {
        let fwmarkServices = services.filter { $0.vip == nil && !$0.inet6 }
        guard let first = fwmarkServices.first else { return nil }
        func usable(_ address: IPv4Address) -> Bool { ReservedIPv4Block.containing(address) == nil }
        if let fwmarkVIP {
            guard let block = ReservedIPv4Block.containing(fwmarkVIP) else { return fwmarkVIP }
            for (statement, marks) in Self.byVirtualServer(fwmarkServices) {
                error(statement, value: "\(fwmarkVIP)", "the VIP given for fwmark services\(marks) is \(block.refusal)")
            }
            return nil
        }
        var candidates: [VRRPAddress] = []
        for address in vrrpAddresses
        where usable(address.address) && !candidates.contains(where: { $0.address == address.address }) {
            candidates.append(address)
        }
        if candidates.count == 1 {
            let vrrp = candidates[0]
            warn(
                first.statement, value: "\(vrrp.address)",
                "keepalived gives fwmark services no address; imported under VIP \(vrrp.address), the virtual_ipaddress of vrrp_instance \(vrrp.instance) (\(vrrp.statement.location))"
            )
            return vrrp.address
        }
        let reason =
            candidates.isEmpty
            ? "and this config has no VRRP virtual_ipaddress to take one from"
            : "and this config's VRRP instances list several (\(candidates.map { "\($0.address)" }.joined(separator: ", ")))"
        for (statement, marks) in Self.byVirtualServer(fwmarkServices) {
            error(
                statement,
                "keepalived gives fwmark services no address\(marks), \(reason); name the VIP these packets are for (--fwmark-vip ADDRESS)"
            )
        }
        return nil
    }

    /// The IPv6 VIP for fwmark services of `ip_family inet6`: only
    /// `--fwmark-vip6` (VRRP addresses are not looked at for them), or nil
    /// after an error on each virtual server they come from.
    func fwmark6ServicesVIP() -> IPAddress? {
        let fwmarkServices = services.filter { $0.vip == nil && $0.inet6 }
        guard !fwmarkServices.isEmpty else { return nil }
        if let fwmarkVIP6 {
            guard let refusal = fwmarkVIP6.reservedBlockRefusal else { return fwmarkVIP6 }
            for (statement, marks) in Self.byVirtualServer(fwmarkServices) {
                error(
                    statement, value: "\(fwmarkVIP6)", "the VIP given for inet6 fwmark services\(marks) is \(refusal)")
            }
            return nil
        }
        for (statement, marks) in Self.byVirtualServer(fwmarkServices) {
            error(
                statement,
                "keepalived gives fwmark services no address\(marks); name the IPv6 VIP these inet6 packets are for (--fwmark-vip6 ADDRESS)"
            )
        }
        return nil
    }

    /// Fwmark services by the virtual_server they come from, in file order,
    /// each with the group entries it was built from as text: " (fwmark 1
    /// at keepalived.conf:2, fwmark 2 at keepalived.conf:3)", or "" for a
    /// plain `virtual_server fwmark N`.
    static func byVirtualServer(_ services: [ImportedService]) -> [(KeepalivedStatement, String)] {
        var order: [KeepalivedLocation] = []
        var grouped: [KeepalivedLocation: (KeepalivedStatement, [String])] = [:]
        for service in services {
            let location = service.statement.location
            if grouped[location] == nil {
                order.append(location)
                grouped[location] = (service.statement, [])
            }
            if let entry = service.groupEntry, case .fwmark(let mark) = service.service.listener {
                grouped[location]!.1.append("fwmark \(mark) at \(entry.location)")
            }
        }
        return order.map { location in
            let (statement, entries) = grouped[location]!
            let group = statement.arguments.count >= 2 ? " of virtual_server_group \(statement.arguments[1])" : ""
            return (statement, entries.isEmpty ? "" : " (\(entries.joined(separator: ", "))\(group))")
        }
    }

    // MARK: VRRP addresses and groups

    /// IPv4 `virtual_ipaddress` entries (`A.B.C.D[/N] [dev ...]`): the only
    /// place a keepalived config names the address a fwmark service is for.
    func collectVRRPAddresses(_ instance: KeepalivedStatement) {
        let name = instance.arguments.first ?? "?"
        for statement in instance.block ?? [] where statement.keyword == "virtual_ipaddress" {
            for entry in statement.block ?? [] {
                let parts = entry.keyword.split(separator: "/", maxSplits: 1, omittingEmptySubsequences: false)
                guard let address = IPv4Address(String(parts[0])) else { continue }
                // keepalived refuses the address when the prefix is not 0-32; so must the VIP guess.
                if parts.count == 2, Int(parts[1]).map({ !(0...32).contains($0) }) ?? true {
                    warn(
                        entry, field: "virtual_ipaddress", value: shown(entry.keyword),
                        "not an IPv4 address with a prefix length 0-32; keepalived skips it, "
                            + "and it is not taken as the fwmark VIP")
                    continue
                }
                vrrpAddresses.append(VRRPAddress(address: address, instance: name, statement: entry))
            }
        }
    }

    /// The most addresses one IPv6 range line may expand to. keepalived's
    /// IPv6 range runs over the last 16-bit group, up to 65,536 VIPs from
    /// one line; an IPv4 range has at most 256, and so does an IPv6 one here.
    static let largestIPv6GroupRange = 256

    /// `virtual_server_group NAME { A.B.C.D[-E] PORT ... X:X::X[-YYYY] PORT ...
    /// fwmark N }`. An IPv4 range runs over the last byte (decimal), an IPv6
    /// one over the last 16-bit group (hexadecimal), as keepalived reads them.
    func readGroup(_ statement: KeepalivedStatement) {
        guard let name = statement.arguments.first else {
            error(statement, "needs a name")
            return
        }
        var entries: [GroupEntry] = []
        for entry in statement.block ?? [] {
            if entry.keyword == "fwmark" {
                guard let mark = number(entry, at: 1, range: 1...Int(UInt32.max), what: "firewall mark") else {
                    continue
                }
                entries.append(.fwmark(UInt32(mark), statement: entry))
                continue
            }
            let range = entry.keyword.split(separator: "-", omittingEmptySubsequences: false)
            guard let first = IPAddress(String(range[0])), range.count <= 2 else {
                error(
                    entry, field: "virtual_server_group", value: shown(entry.keyword),
                    "expected A.B.C.D PORT, A.B.C.D-E PORT (a range of the last byte), an IPv6 address with PORT, "
                        + "X:X::X-YYYY PORT (a range of the last 16-bit group, hexadecimal) or fwmark N")
                continue
            }
            if let refusal = first.reservedBlockRefusal {
                error(entry, field: "virtual_server_group", value: shown(entry.keyword), refusal)
                continue
            }
            var addresses = [first]
            if range.count == 2 {
                switch first {
                case .v4(let start):
                    guard let last = UInt32(range[1]), last <= 255, last >= start.value & 0xff else {
                        error(
                            entry, field: "virtual_server_group", value: shown(entry.keyword),
                            "the range end must be a last byte from \(start.value & 0xff) to 255")
                        continue
                    }
                    addresses = ((start.value & 0xff)...last).map { .v4(IPv4Address(start.value & 0xffff_ff00 | $0)) }
                case .v6(let start):
                    var bytes = start.bytes
                    let low = Int(bytes[14]) << 8 | Int(bytes[15])
                    let limit = min(0xffff, low + Self.largestIPv6GroupRange - 1)
                    guard let last = Int(range[1], radix: 16), range[1].count <= 4, last >= low, last <= limit else {
                        error(
                            entry, field: "virtual_server_group", value: shown(entry.keyword),
                            "the range end must be a last 16-bit group in hexadecimal from "
                                + "\(String(low, radix: 16)) to \(String(limit, radix: 16)) (at most "
                                + "\(Self.largestIPv6GroupRange) addresses; keepalived's form with a whole end "
                                + "address is not imported)")
                        continue
                    }
                    addresses = (low...last).map { group in
                        bytes[14] = UInt8(group >> 8)
                        bytes[15] = UInt8(group & 0xff)
                        return .v6(IPv6Address(bytes: bytes))
                    }
                }
            }
            guard entry.arguments.count >= 1, let port = Int(entry.arguments[0]), (1...65535).contains(port) else {
                error(
                    entry, field: "virtual_server_group", value: shown(entry.keyword),
                    "needs a port from 1 to 65535 after the address; ecmpd services are address and port, or fwmark")
                continue
            }
            entries.append(.addresses(addresses, port: port))
        }
        if groups[name] != nil { error(statement, value: name, "a second virtual_server_group with this name") }
        groups[name] = entries
    }

    // MARK: Values

    /// Word `index` of the statement (1 is the first argument), or nil after
    /// reporting that it is missing.
    func argument(_ statement: KeepalivedStatement, at index: Int = 1, what: String) -> String? {
        guard index < statement.words.count else {
            error(statement, "missing the \(what)")
            return nil
        }
        return statement.words[index]
    }

    /// A whole number within `range`, as keepalived's read_unsigned takes it.
    func number(_ statement: KeepalivedStatement, at index: Int = 1, range: ClosedRange<Int>, what: String) -> Int? {
        guard let text = argument(statement, at: index, what: what) else { return nil }
        guard !text.isEmpty, text.allSatisfy(\.isASCIIDigit) else {
            error(statement, value: text, "expected a whole number (the \(what))")
            return nil
        }
        let value = text.count > 12 ? Int.max : Int(text)!
        guard range.contains(value) else {
            error(statement, value: text, "the \(what) must be from \(range.lowerBound) to \(range.upperBound)")
            return nil
        }
        return value
    }

    /// keepalived's timers are decimal seconds (`5`, `1.5`, up to six
    /// decimals); ecmpd counts milliseconds and bounds checks to `range`.
    func timer(_ statement: KeepalivedStatement, range: ClosedRange<Duration>) -> Duration? {
        guard let text = argument(statement, what: "time in seconds") else { return nil }
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        guard (1...2).contains(parts.count), !parts[0].isEmpty, parts.allSatisfy({ $0.allSatisfy(\.isASCIIDigit) }),
            parts[0].count <= 7, parts.count == 1 || (1...6).contains(parts[1].count)
        else {
            error(statement, value: text, "expected seconds, such as 3 or 1.5")
            return nil
        }
        let fraction = parts.count == 2 ? String(parts[1]).padding(toLength: 6, withPad: "0", startingAt: 0) : "000000"
        let microseconds = Int64(parts[0])! * 1_000_000 + Int64(fraction)!
        let milliseconds = (microseconds + 500) / 1000
        if microseconds % 1000 != 0 {
            warn(
                statement, value: text,
                "ecmpd counts milliseconds; taken as \(DurationParser.format(.milliseconds(milliseconds)))")
        }
        let value = Duration.milliseconds(milliseconds)
        guard range.contains(value) else {
            error(
                statement, value: text,
                "ecmpd takes \(DurationParser.format(range.lowerBound)) to \(DurationParser.format(range.upperBound)) here"
            )
            return nil
        }
        return value
    }

    /// keepalived's check_true_false: a bare keyword, or true/on/yes,
    /// false/off/no.
    func onOff(_ statement: KeepalivedStatement) -> Bool? {
        guard let text = statement.arguments.first else { return true }
        switch text {
        case "true", "on", "yes": return true
        case "false", "off", "no": return false
        default:
            error(statement, value: text, "expected on or off (also true/false, yes/no), or nothing for on")
            return nil
        }
    }

    /// keepalived reads one value for most keywords and drops the rest of
    /// the line without a word.
    func expectArguments(_ statement: KeepalivedStatement, _ count: Int) {
        guard statement.arguments.count > count else { return }
        let extra = statement.arguments.dropFirst(count).joined(separator: " ")
        warn(
            statement, value: extra,
            "keepalived reads only the first \(count == 1 ? "value" : "\(count) values") and ignores the rest; quote a value that contains blanks"
        )
    }

    // MARK: Problems

    func error(_ statement: KeepalivedStatement, field: String? = nil, value: String? = nil, _ message: String) {
        add(.error, statement, field: field, value: value, message)
    }

    func warn(_ statement: KeepalivedStatement, field: String? = nil, value: String? = nil, _ message: String) {
        add(.warning, statement, field: field, value: value, message)
    }

    /// Every problem names its statement's keyword (as `shown` shows it),
    /// never the arguments of a keyword whose arguments are secrets.
    private func add(
        _ severity: ConfigProblem.Severity, _ statement: KeepalivedStatement,
        field: String?, value: String?, _ message: String
    ) {
        let secret = KeepalivedGrammar.secretArguments.contains(statement.keyword)
        let problem = ConfigProblem(
            severity, file: statement.location.file, line: statement.location.line,
            field: field ?? shown(statement.keyword), value: secret ? nil : value,
            message: message)
        problems.append((statement.order, problem))
    }

    /// A keyword as problems name it: whole when keepalived knows it, else
    /// as `UntrustedText.keyword` shows a word from a file that may be
    /// something else.
    func shown(_ word: String) -> String {
        KeepalivedGrammar.isKeyword(word) ? word : UntrustedText.keyword(word)
    }
}
