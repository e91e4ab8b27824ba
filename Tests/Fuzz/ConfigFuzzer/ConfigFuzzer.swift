import ECMPCore
import FuzzSupport

/// libFuzzer on the ecmpd YAML config: the bytes go the way `ecmpd check`
/// reads a file (`SourceText`, then `ConfigParser`). Every input must
/// parse, or be refused with errors that name the file and a line; anything
/// else traps, which libFuzzer reports as a crash. Run by `make fuzz`.
@main
enum ConfigFuzzer {
    static let file = "fuzz.yaml"

    static func main() {
        LibFuzzer.run { data, size in ConfigFuzzer.testOneInput(LibFuzzer.bytes(data, size)) }
    }

    static func testOneInput(_ bytes: [UInt8]) -> CInt {
        do throws(ConfigErrors) {
            let text = try SourceText.decode(bytes, file: file)
            _ = try ConfigParser.parse(text, file: file)
        } catch {
            for problem in error.problems where problem.severity == .error {
                precondition(problem.file == file && problem.line != nil, "an error without file:line: \(problem)")
            }
        }
        return 0
    }
}
