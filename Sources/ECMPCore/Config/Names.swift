/// Syntax rules for names that end up in generated files, command lines or
/// kernel calls. Anything outside them is refused rather than escaped, so a
/// config can never smuggle a second command or config line anywhere.
enum Names {
    /// Linux IFNAMSIZ is 16 including the terminating NUL.
    static let maximumInterfaceNameLength = 15

    static func interfaceProblem(_ name: String) -> String? {
        if name.isEmpty { return "empty interface name" }
        if name.utf8.count > maximumInterfaceNameLength {
            return "longer than \(maximumInterfaceNameLength) bytes (IFNAMSIZ)"
        }
        if name == "." || name == ".." { return "not a valid interface name" }
        let allowed = name.unicodeScalars.allSatisfy { scalar in
            scalar.isASCII
                && (scalar.properties.isAlphabetic || ("0"..."9").contains(scalar)
                    || "-_.:@".unicodeScalars.contains(scalar))
        }
        return allowed ? nil : "interface names are letters, digits and - _ . : @ only"
    }

    static func isHostname(_ text: String) -> Bool {
        guard !text.isEmpty, text.utf8.count <= 253 else { return false }
        return text.split(separator: ".", omittingEmptySubsequences: false).allSatisfy { label in
            !label.isEmpty && label.count <= 63 && label.first != "-" && label.last != "-"
                && label.unicodeScalars.allSatisfy {
                    $0.isASCII && ($0.properties.isAlphabetic || ("0"..."9").contains($0) || $0 == "-")
                }
        }
    }

    static func isAccountName(_ text: String) -> Bool {
        guard !text.isEmpty, text.utf8.count <= 32, text.first != "-" else { return false }
        return text.unicodeScalars.allSatisfy {
            $0.isASCII && ($0.properties.isAlphabetic || ("0"..."9").contains($0) || $0 == "-" || $0 == "_")
        }
    }

    static func isContiguousMask(_ mask: IPv4Address) -> Bool {
        let inverted = ~mask.value
        return inverted & (inverted &+ 1) == 0
    }
}

/// The `status.listen` value: `host:port` with an IPv4 host, or `[v6]:port`.
public enum StatusListenAddress {
    public static func split(_ text: String) -> (host: String, port: Int)? {
        guard let colon = text.lastIndex(of: ":") else { return nil }
        var host = String(text[..<colon])
        if host.hasPrefix("["), host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        guard let port = Int(text[text.index(after: colon)...]), (1...65535).contains(port), IPAddress(host) != nil
        else { return nil }
        return (host, port)
    }

    static func problem(_ text: String) -> String? {
        split(text) == nil ? "expected ADDRESS:PORT such as 127.0.0.1:9477" : nil
    }

    static func isLoopback(_ text: String) -> Bool {
        guard let host = split(text)?.host else { return false }
        return host == "::1" || IPv4Address(host)?.isLoopback == true
    }
}
