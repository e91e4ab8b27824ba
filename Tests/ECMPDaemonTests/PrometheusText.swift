import Foundation

/// A strict reader for the Prometheus text format (0.0.4), enough to prove
/// `/metrics` is well formed: every line is a comment, blank, or
/// `name{label="value",...} number`, and every sample's family has a TYPE.
struct PrometheusText {
    struct Sample: Equatable {
        var name: String
        var labels: [String: String]
        var value: Double
    }

    struct Malformed: Error, CustomStringConvertible {
        var line: String
        var description: String { "not Prometheus text: \(line)" }
    }

    var types: [String: String] = [:]
    var samples: [Sample] = []

    init(_ text: String) throws {
        for line in text.split(separator: "\n").map(String.init) {
            if line.hasPrefix("# TYPE ") {
                let parts = line.split(separator: " ")
                guard parts.count == 4, ["counter", "gauge", "histogram", "summary", "untyped"].contains(parts[3])
                else {
                    throw Malformed(line: line)
                }
                types[String(parts[2])] = String(parts[3])
            } else if line.hasPrefix("#") {
                continue
            } else {
                samples.append(try Self.sample(line))
            }
        }
        for sample in samples {
            let family = ["_bucket", "_sum", "_count"].reduce(sample.name) { name, suffix in
                types[name] == nil && name.hasSuffix(suffix) ? String(name.dropLast(suffix.count)) : name
            }
            guard types[family] != nil else { throw Malformed(line: "sample \(sample.name) has no # TYPE") }
        }
    }

    func value(_ name: String, _ labels: [String: String] = [:]) -> Double? {
        samples.first { $0.name == name && $0.labels == labels }?.value
    }

    private static func sample(_ line: String) throws -> Sample {
        guard let match = line.wholeMatch(of: /([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)/),
            let value = Double(match.3) ?? (match.3 == "+Inf" ? .infinity : nil)
        else { throw Malformed(line: line) }
        var labels: [String: String] = [:]
        if let body = match.2, !body.isEmpty {
            let pairs = body.matches(of: /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)",?/)
            guard pairs.map({ $0.0.count }).reduce(0, +) == body.count else { throw Malformed(line: line) }
            for pair in pairs { labels[String(pair.1)] = String(pair.2) }
        }
        return Sample(name: String(match.1), labels: labels, value: value)
    }
}
