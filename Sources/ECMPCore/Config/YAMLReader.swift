import Yams

/// Reads a composed YAML tree field by field, collecting problems with their
/// line and column instead of stopping at the first one, and remembering
/// where each field stood. Unknown keys are errors with a did-you-mean, so a
/// typo never silently falls back to a default; they are named as
/// `UntrustedText.keyword` shows them, never whole.
final class YAMLReader {
    let file: String
    private(set) var problems: [ConfigProblem] = []
    private(set) var locations: [String: SourceLocation] = [:]

    init(file: String) { self.file = file }

    var hasErrors: Bool { problems.contains { $0.severity == .error } }

    func report(_ node: Node?, _ field: String?, value: String? = nil, _ message: String) {
        add(.error, node, field, value, message)
    }

    func warn(_ node: Node?, _ field: String?, value: String? = nil, _ message: String) {
        add(.warning, node, field, value, message)
    }

    private func add(
        _ severity: ConfigProblem.Severity, _ node: Node?, _ field: String?, _ value: String?, _ message: String
    ) {
        problems.append(
            ConfigProblem(
                severity, file: file, line: node?.mark?.line, column: node?.mark?.column, field: field, value: value,
                message: message))
    }

    func remember(_ field: String, _ node: Node) {
        if let mark = node.mark { locations[field] = SourceLocation(line: mark.line, column: mark.column) }
    }

    // MARK: Structure

    /// The entries of a mapping in file order, or nil (with a problem) when
    /// the node is something else. Duplicate keys are reported: YAML parsers
    /// differ on which one wins, so neither should.
    func mapping(_ node: Node, _ field: String, allowed: [String]) -> Fields? {
        guard case .mapping(let mapping) = node else {
            report(node, field, value: node.scalar?.string, "expected a mapping of \(allowed.joined(separator: ", "))")
            return nil
        }
        remember(field, node)
        var entries: [String: (key: Node, value: Node)] = [:]
        for (key, value) in mapping {
            guard let name = key.scalar?.string else {
                report(key, field, "keys must be plain words")
                continue
            }
            // A key that is not one of `allowed` may be a line of some other
            // file: named only by a short printable prefix (`UntrustedText`).
            let shown = allowed.contains(name) ? name : UntrustedText.keyword(name)
            let path = field.isEmpty ? shown : "\(field).\(shown)"
            if entries[name] != nil {
                report(key, path, "duplicate key (the first one is at line \(entries[name]!.key.mark?.line ?? 0))")
                continue
            }
            guard allowed.contains(name) else {
                let hint =
                    Suggestion.closest(to: name, among: allowed).map { "; did you mean '\($0)'?" }
                    ?? "; known keys: \(allowed.joined(separator: ", "))"
                report(key, path, value: shown, "unknown key\(hint)")
                continue
            }
            entries[name] = (key, value)
            remember(path, value)
        }
        return Fields(path: field, entries: entries)
    }

    func sequence(_ node: Node, _ field: String) -> [(String, Node)]? {
        guard case .sequence(let items) = node else {
            report(node, field, value: node.scalar?.string, "expected a list")
            return nil
        }
        return items.enumerated().map { index, item in
            let path = "\(field)[\(index)]"
            remember(path, item)
            return (path, item)
        }
    }

    // MARK: Scalars

    func string(_ node: Node, _ field: String) -> String? {
        guard case .scalar(let scalar) = node else {
            report(node, field, "expected a single value")
            return nil
        }
        return scalar.string
    }

    func int(_ node: Node, _ field: String, range: ClosedRange<Int>) -> Int? {
        guard let text = string(node, field) else { return nil }
        guard let value = Int(text) else {
            report(node, field, value: text, "expected a whole number")
            return nil
        }
        guard range.contains(value) else {
            report(node, field, value: text, "out of range \(range.lowerBound)-\(range.upperBound)")
            return nil
        }
        return value
    }

    func bool(_ node: Node, _ field: String) -> Bool? {
        guard let text = string(node, field) else { return nil }
        switch text {
        case "true", "yes", "on": return true
        case "false", "no", "off": return false
        default:
            report(node, field, value: text, "expected true or false")
            return nil
        }
    }

    func ipv4(_ node: Node, _ field: String) -> IPv4Address? {
        guard let text = string(node, field) else { return nil }
        guard let address = IPv4Address(text) else {
            report(node, field, value: text, "not an IPv4 address (dotted quad, each part 0-255)")
            return nil
        }
        return address
    }

    func ipAddress(_ node: Node, _ field: String) -> IPAddress? {
        guard let text = string(node, field) else { return nil }
        guard let address = IPAddress(text) else {
            report(node, field, value: text, "not an IPv4 or IPv6 address")
            return nil
        }
        return address
    }

    func duration(_ node: Node, _ field: String, range: ClosedRange<Duration>) -> Duration? {
        guard let text = string(node, field) else { return nil }
        guard let value = DurationParser.parse(text) else {
            report(node, field, value: text, "expected a duration such as 500ms, 2s or 1m")
            return nil
        }
        guard range.contains(value) else {
            report(
                node, field, value: text,
                "out of range \(DurationParser.format(range.lowerBound))-\(DurationParser.format(range.upperBound))")
            return nil
        }
        return value
    }

    func choice<T: RawRepresentable & CaseIterable>(_ node: Node, _ field: String, _ type: T.Type) -> T?
    where T.RawValue == String {
        guard let text = string(node, field) else { return nil }
        if let value = T(rawValue: text) { return value }
        let names = T.allCases.map(\.rawValue)
        let hint = Suggestion.closest(to: text, among: names).map { "did you mean '\($0)'? " } ?? ""
        report(node, field, value: text, "\(hint)expected one of \(names.joined(separator: ", "))")
        return nil
    }
}

/// The known keys of one mapping, looked up by name.
struct Fields {
    let path: String
    let entries: [String: (key: Node, value: Node)]

    subscript(_ key: String) -> Node? { entries[key]?.value }
    func path(_ key: String) -> String { path.isEmpty ? key : "\(path).\(key)" }
}

extension YAMLReader {
    func relocate(index: Int, to location: SourceLocation) {
        guard problems.indices.contains(index) else { return }
        problems[index].line = location.line
        problems[index].column = location.column
    }
}
