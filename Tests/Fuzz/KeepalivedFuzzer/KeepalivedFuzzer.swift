import ECMPCore
import FuzzSupport

/// libFuzzer on `ecmpd import-keepalived`: the bytes go the way the command
/// reads a file (`SourceText`, then `KeepalivedImporter`), and the first
/// `maximumIncludes` includes read the input itself again, so include loops
/// and nesting are fuzzed too (more would only fuzz the lexer's include
/// limits, which the unit tests cover, at a thousand copies an input). Every input must import, or be refused with errors that name
/// a file and a line; an "internal error" (the generated YAML does not read
/// back the same) has no line, so it is a finding too. Run by `make fuzz`.
@main
enum KeepalivedFuzzer {
    static let file = "/etc/keepalived/keepalived.conf"
    static let maximumIncludes = 8

    static func main() {
        LibFuzzer.run { data, size in KeepalivedFuzzer.testOneInput(LibFuzzer.bytes(data, size)) }
    }

    static func testOneInput(_ bytes: [UInt8]) -> CInt {
        do throws(ConfigErrors) {
            let text = try SourceText.decode(bytes, file: file)
            var includes = 0
            _ = try KeepalivedImporter.importConfig(text: text, file: file, configID: "director-1") { path in
                includes += 1
                return includes <= maximumIncludes ? [(path, text)] : []
            }
        } catch {
            for problem in error.problems where problem.severity == .error {
                precondition(problem.line != nil && !problem.file.isEmpty, "an error without file:line: \(problem)")
            }
        }
        return 0
    }
}
