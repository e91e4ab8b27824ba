/// One problem found in a configuration file: where (file, line, column,
/// field path such as `vips[0].services[1].port`), the offending value, and
/// what is wrong, as a sentence an operator can act on.
public struct ConfigProblem: Error, Sendable, Equatable, CustomStringConvertible {
    public enum Severity: String, Sendable { case error, warning }

    public var severity: Severity
    public var file: String
    public var line: Int?
    public var column: Int?
    public var field: String?
    public var value: String?
    public var message: String

    public init(
        _ severity: Severity = .error, file: String, line: Int? = nil, column: Int? = nil,
        field: String? = nil, value: String? = nil, message: String
    ) {
        self.severity = severity
        self.file = file
        self.line = line
        self.column = column
        self.field = field
        self.value = value
        self.message = message
    }

    /// `ecmpd.yaml:12:11: error: vips[0].services[0].port: "70000": out of range 1-65535`
    public var description: String {
        var location = file
        if let line { location += ":\(line)" }
        if let column { location += ":\(column)" }
        var text = "\(location): \(severity.rawValue): "
        if let field { text += "\(field): " }
        if let value { text += "\"\(value)\": " }
        return text + message
    }
}

/// Thrown when a file has at least one error; carries every problem found,
/// warnings included, in file order.
public struct ConfigErrors: Error, Sendable, CustomStringConvertible {
    public var problems: [ConfigProblem]
    public init(_ problems: [ConfigProblem]) { self.problems = problems }
    public var description: String { problems.map(\.description).joined(separator: "\n") }
}

/// A parsed configuration plus what was learned while reading it: warnings,
/// and where each field stood in the file, so checks that need the live
/// network (a VIP equal to an interface address) can still name the line.
public struct LoadedConfig: Sendable {
    public var config: Config
    public var file: String
    public var warnings: [ConfigProblem]
    public var locations: [String: SourceLocation]

    public init(config: Config, file: String, warnings: [ConfigProblem] = [], locations: [String: SourceLocation] = [:])
    {
        self.config = config
        self.file = file
        self.warnings = warnings
        self.locations = locations
    }

    /// A problem about `field`, placed at that field's line when known.
    public func problem(_ severity: ConfigProblem.Severity = .error, field: String, value: String?, message: String)
        -> ConfigProblem
    {
        let location = locations[field]
        return ConfigProblem(
            severity, file: file, line: location?.line, column: location?.column, field: field, value: value,
            message: message)
    }
}

public struct SourceLocation: Sendable, Equatable {
    public var line: Int
    public var column: Int
    public init(line: Int, column: Int) {
        self.line = line
        self.column = column
    }
}
