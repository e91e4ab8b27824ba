/// The bytes of a config file (ecmpd YAML or keepalived.conf) as text, or
/// a problem naming the file and the line where they stop being acceptable:
/// past the size limit, or not UTF-8. The caller reads the file; this only
/// judges the bytes, so the check is the same for the CLI, the daemon and
/// the fuzzers.
public enum SourceText {
    /// 16 MiB. The largest real config we know of (500 VIPs × 4 services ×
    /// 50 real servers with checks) is about 10 MiB of YAML and parses in
    /// seconds; anything larger is a generated file gone wrong, and parsing
    /// it would only cost the director memory and time.
    public static let maximumSize = 16 << 20

    public static func decode(_ bytes: [UInt8], file: String) throws(ConfigErrors) -> String {
        if let problem = sizeProblem(bytes, file: file) { throw ConfigErrors([problem]) }
        var iterator = bytes.makeIterator()
        var parser = Unicode.UTF8.ForwardParser()
        var offset = 0
        while true {
            switch parser.parseScalar(from: &iterator) {
            case .valid(let scalar): offset += scalar.count
            case .emptyInput: return String(decoding: bytes, as: UTF8.self)
            case .error:
                let (line, column) = position(ofByte: offset, in: bytes)
                throw ConfigErrors([
                    ConfigProblem(
                        file: file, line: line, column: column, value: "0x" + String(bytes[offset], radix: 16),
                        message: "not valid UTF-8 (at byte offset \(offset)); save the file as UTF-8 text")
                ])
            }
        }
    }

    /// The refusal for text larger than `maximumSize`, placed at the line
    /// the limit falls in.
    static func sizeProblem(_ bytes: some Collection<UInt8>, file: String) -> ConfigProblem? {
        guard bytes.count > maximumSize else { return nil }
        let (line, _) = position(ofByte: maximumSize, in: bytes)
        return ConfigProblem(
            file: file, line: line, value: "\(bytes.count) bytes",
            message: "larger than the \(maximumSize >> 20) MiB a config may have; the limit falls in this line")
    }

    /// Line and column (both from 1, the column in bytes) of byte `offset`.
    static func position(ofByte offset: Int, in bytes: some Collection<UInt8>) -> (line: Int, column: Int) {
        var line = 1
        var column = 1
        for byte in bytes.prefix(offset) {
            if byte == UInt8(ascii: "\n") {
                line += 1
                column = 1
            } else {
                column += 1
            }
        }
        return (line, column)
    }
}
