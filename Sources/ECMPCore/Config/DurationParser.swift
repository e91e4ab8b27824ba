/// Durations in config files: `500ms`, `2s`, `1.5s`, `3m`, `1h`, or a bare
/// number of seconds.
public enum DurationParser {
    public static func parse(_ text: String) -> Duration? {
        let units: [(String, Double)] = [("ms", 0.001), ("s", 1), ("m", 60), ("h", 3600)]
        var number = Substring(text)
        var scale = 1.0
        for (suffix, factor) in units where text.hasSuffix(suffix) {
            number = text.dropLast(suffix.count)
            scale = factor
            break
        }
        guard !number.isEmpty, number.allSatisfy({ $0.isASCIIDigit || $0 == "." }),
            number.filter({ $0 == "." }).count <= 1, let value = Double(number), value.isFinite
        else { return nil }
        let milliseconds = (value * scale * 1000).rounded()
        guard milliseconds <= 86_400_000 * 7 else { return nil }
        return .milliseconds(Int64(milliseconds))
    }

    /// The shortest exact spelling: `500ms`, `2s`, `1500ms`.
    public static func format(_ duration: Duration) -> String {
        let ms = duration.components.seconds * 1000 + duration.components.attoseconds / 1_000_000_000_000_000
        if ms % 1000 == 0 { return "\(ms / 1000)s" }
        return "\(ms)ms"
    }
}

extension Duration {
    /// Whole milliseconds, for config output and logs.
    public var milliseconds: Int64 {
        components.seconds * 1000 + components.attoseconds / 1_000_000_000_000_000
    }
}
