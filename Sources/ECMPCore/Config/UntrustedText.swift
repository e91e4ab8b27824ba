/// How ecmpd shows text from a file that may not be a config at all. An
/// `import-keepalived` of a config that includes /etc/shadow, or a `check`
/// of a token file, must not copy a secret into a terminal, a log or a
/// generated config: an unknown keyword or key is named by a short,
/// printable prefix, and a file that is plainly something else is refused
/// with one problem that shows none of its lines.
public enum UntrustedText {
    /// How many characters of an unknown keyword or key are shown.
    public static let shownLength = 32
    /// How many statements (keepalived) or top-level keys (ecmpd) decide
    /// whether a file is a config at all: when every one of them is
    /// unknown, the file is something else.
    public static let judgedStatements = 5

    /// `word` in printable ASCII (anything else as `?`), cut after
    /// `shownLength` characters with `...`.
    public static func keyword(_ word: String) -> String {
        var shown = String.UnicodeScalarView()
        for (index, scalar) in word.unicodeScalars.enumerated() {
            if index == shownLength { return String(shown) + "..." }
            shown.append((0x21...0x7e).contains(scalar.value) ? scalar : "?")
        }
        return String(shown)
    }

    /// The line of the first control character other than the blanks
    /// text files use (tab, line feed, vertical tab, form feed, carriage
    /// return), or nil: NUL-separated data such as /proc/self/environ, or
    /// a binary that happens to be valid UTF-8.
    public static func binaryLine(_ text: String) -> Int? {
        var line = 1
        for byte in text.utf8 {
            switch byte {
            case 0x0a: line += 1
            case 0x09, 0x0b, 0x0c, 0x0d: continue
            case 0x00...0x1f, 0x7f: return line
            default: continue
            }
        }
        return nil
    }

    /// The one problem for a file that is plainly not a config of `kind`
    /// ("a keepalived config"): names the file, the line where it stops
    /// looking like one, and why; shows no line.
    static func notAConfig(_ file: String, line: Int, _ kind: String, _ reason: String) -> ConfigProblem {
        ConfigProblem(
            file: file, line: line, message: "does not look like \(kind): \(reason); none of its lines is shown")
    }

    /// Why a file with a control character is not a config of any kind.
    static let binaryReason = "it holds binary data (a control character on this line)"
}
