import ECMPCore
import XCTest

/// The reference tool, run as a subprocess, and readers for its text. The
/// kernel tier checks ecmpd against `ipvsadm` because that is what
/// operators will compare it with.
enum Ipvsadm {
    /// Runs ipvsadm with `arguments` and returns its stdout.
    @discardableResult
    static func run(_ arguments: [String]) throws -> String { try Tool.run("ipvsadm", arguments) }

    /// Feeds `rules` to ipvsadm-restore.
    static func restore(_ rules: String) throws { try Tool.run("ipvsadm-restore", [], input: rules) }

    static func clear() throws { try run(["-C"]) }

    /// `ipvsadm -Ln` plus `--thresholds`, read into a table, with active and
    /// inactive connection counts. ipvsadm shows a netmask only for
    /// persistent services; others get the host mask.
    static func listing() throws -> IPVSTable {
        var table = try parseListing(try run(["-Ln"]))
        let thresholds = try parseListing(try run(["-Ln", "--thresholds"]), thresholdColumns: true)
        for (index, entry) in table.entries.enumerated() {
            guard let withThresholds = thresholds[entry.service.identity] else { continue }
            for (position, destination) in entry.destinations.enumerated() {
                guard let other = withThresholds.destinations.first(where: { $0.key == destination.key }) else {
                    continue
                }
                table.entries[index].destinations[position].upperThreshold = other.upperThreshold
                table.entries[index].destinations[position].lowerThreshold = other.lowerThreshold
            }
        }
        return table
    }

    static func parseListing(_ text: String, thresholdColumns: Bool = false) throws -> IPVSTable {
        var entries: [IPVSTable.Entry] = []
        for line in text.split(separator: "\n").map(String.init) {
            let words = line.split(separator: " ").map(String.init)
            guard let first = words.first else { continue }
            if ["TCP", "UDP", "SCTP", "FWM"].contains(first) {
                entries.append(IPVSTable.Entry(try parseListedService(words)))
            } else if first == "->", words.count >= 3, let key = parseEndpoint(words[1]) {
                guard !entries.isEmpty else { throw ParseError(line: line) }
                var destination = IPVSDestination(key.address, port: key.port)
                if thresholdColumns {
                    guard let upper = UInt32(words[2]), let lower = UInt32(words[3]) else {
                        throw ParseError(line: line)
                    }
                    destination.upperThreshold = upper
                    destination.lowerThreshold = lower
                } else {
                    guard words.count >= 6, let method = forwarding(named: words[2]), let weight = Int32(words[3]),
                        let active = UInt32(words[4]), let inactive = UInt32(words[5])
                    else { throw ParseError(line: line) }
                    destination.forwarding = method
                    destination.weight = weight
                    destination.connections = IPVSConnectionCounts(active: active, inactive: inactive)
                }
                entries[entries.count - 1].destinations.append(destination)
            }
        }
        return IPVSTable(entries)
    }

    /// `TCP  198.18.0.1:80 mh (mh-fallback,mh-port) persistent 60 mask 255.255.255.0 ops`
    private static func parseListedService(_ words: [String]) throws -> IPVSService {
        var rest = words.dropFirst(2)
        let identity: IPVSServiceIdentity
        if words[0] == "FWM" {
            guard let mark = UInt32(words[1]) else { throw ParseError(line: words.joined(separator: " ")) }
            let isV6 = rest.first == "IPv6"
            if isV6 { rest = rest.dropFirst() }
            identity = .fwmark(mark, family: isV6 ? .ipv6 : .ipv4)
        } else {
            guard let key = parseEndpoint(words[1]) else { throw ParseError(line: words.joined(separator: " ")) }
            identity = try serviceIdentity(protocol: words[0], key)
        }
        guard let scheduler = rest.popFirst() else { throw ParseError(line: words.joined(separator: " ")) }
        var service = IPVSService(identity, scheduler: scheduler)
        while let word = rest.popFirst() {
            switch word {
            case _ where word.hasPrefix("("):
                service.flags.formUnion(schedulerFlags(String(word.dropFirst().dropLast())))
            case "persistent":
                service.flags.insert(.persistent)
                service.persistenceTimeout = UInt32(rest.popFirst() ?? "") ?? 0
            case "mask":
                service.netmask = try netmask(rest.popFirst() ?? "", family: identity.family)
            case "ops":
                service.flags.insert(.onePacket)
            default:
                throw ParseError(line: words.joined(separator: " "))
            }
        }
        return service
    }

    /// `ipvsadm -Sn` read into a table (thresholds are not in it).
    static func parseRules(_ text: String) throws -> IPVSTable {
        var entries: [IPVSTable.Entry] = []
        for line in text.split(separator: "\n").map(String.init) {
            var words = line.split(separator: " ").map(String.init)[...]
            guard let command = words.popFirst() else { continue }
            let identity = try parseRuleTarget(&words, line: line)
            if command == "-A" {
                var service = IPVSService(identity)
                while let option = words.popFirst() {
                    switch option {
                    case "-s": service.scheduler = words.popFirst() ?? ""
                    case "-p":
                        service.flags.insert(.persistent)
                        service.persistenceTimeout = UInt32(words.popFirst() ?? "") ?? 0
                    case "-M": service.netmask = try netmask(words.popFirst() ?? "", family: identity.family)
                    case "-b": service.flags.formUnion(schedulerFlags(words.popFirst() ?? ""))
                    case "-o": service.flags.insert(.onePacket)
                    default: throw ParseError(line: line)
                    }
                }
                entries.append(IPVSTable.Entry(service))
            } else if command == "-a" {
                guard words.popFirst() == "-r", let key = words.popFirst().flatMap(parseEndpoint),
                    let index = entries.lastIndex(where: { $0.service.identity == identity })
                else { throw ParseError(line: line) }
                var destination = IPVSDestination(key.address, port: key.port)
                while let option = words.popFirst() {
                    switch option {
                    case "-g": destination.forwarding = .directRoute
                    case "-m": destination.forwarding = .masquerade
                    case "-i": destination.forwarding = .tunnel
                    case "-w": destination.weight = Int32(words.popFirst() ?? "") ?? -1
                    case "-x": destination.upperThreshold = UInt32(words.popFirst() ?? "") ?? 0
                    case "-y": destination.lowerThreshold = UInt32(words.popFirst() ?? "") ?? 0
                    case "--tun-type": _ = words.popFirst()
                    default: throw ParseError(line: line)
                    }
                }
                entries[index].destinations.append(destination)
            } else {
                throw ParseError(line: line)
            }
        }
        return IPVSTable(entries)
    }

    struct ParseError: Error, CustomStringConvertible {
        var line: String
        var description: String { "cannot read ipvsadm line: \(line)" }
    }

    private static func parseRuleTarget(_ words: inout ArraySlice<String>, line: String) throws -> IPVSServiceIdentity {
        guard let option = words.popFirst(), let value = words.popFirst() else { throw ParseError(line: line) }
        if option == "-f" {
            guard let mark = UInt32(value) else { throw ParseError(line: line) }
            if words.first == "-6" {
                words = words.dropFirst()
                return .fwmark(mark, family: .ipv6)
            }
            return .fwmark(mark, family: .ipv4)
        }
        guard let key = parseEndpoint(value) else { throw ParseError(line: line) }
        switch option {
        case "-t": return .tcp(key.address, port: key.port)
        case "-u": return .udp(key.address, port: key.port)
        case "--sctp-service": return .sctp(key.address, port: key.port)
        default: throw ParseError(line: line)
        }
    }

    private static func serviceIdentity(protocol name: String, _ key: IPVSDestinationKey) throws -> IPVSServiceIdentity
    {
        switch name {
        case "TCP": return .tcp(key.address, port: key.port)
        case "UDP": return .udp(key.address, port: key.port)
        case "SCTP": return .sctp(key.address, port: key.port)
        default: throw ParseError(line: name)
        }
    }

    /// `198.18.0.1:80` or `[2001:db8::1]:80`.
    static func parseEndpoint(_ text: String) -> IPVSDestinationKey? {
        guard let colon = text.lastIndex(of: ":"), let port = UInt16(text[text.index(after: colon)...]) else {
            return nil
        }
        var host = String(text[..<colon])
        if host.hasPrefix("[") && host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        return IPAddress(host).map { IPVSDestinationKey($0, port: port) }
    }

    private static func schedulerFlags(_ list: String) -> IPVSServiceFlags {
        var flags: IPVSServiceFlags = []
        for name in list.split(separator: ",") {
            switch name {
            case "flag-1", "sh-fallback", "mh-fallback": flags.insert(.sched1)
            case "flag-2", "sh-port", "mh-port": flags.insert(.sched2)
            case "flag-3": flags.insert(.sched3)
            default: flags.insert(IPVSServiceFlags(rawValue: 0x8000_0000))  // unknown: never equal
            }
        }
        return flags
    }

    private static func netmask(_ text: String, family: IPVSAddressFamily) throws -> IPVSPersistenceNetmask {
        switch family {
        case .ipv4:
            guard let mask = IPv4Address(text) else { throw ParseError(line: "mask \(text)") }
            return .ipv4(mask)
        case .ipv6:
            guard let length = UInt8(text) else { throw ParseError(line: "mask \(text)") }
            return .ipv6(prefixLength: length)
        }
    }

    private static func forwarding(named name: String) -> IPVSForwardingMethod? {
        IPVSForwardingMethod.allCases.first { $0.description == name }
    }
}
