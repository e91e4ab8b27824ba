@testable import ECMPCore
import Foundation
import XCTest

/// The fixed fuzz corpus (Fixtures/fuzz-corpus: minimized fuzzer inputs,
/// the regressions among them named `regression-*`) through both parsers,
/// the way the CLI reads a file. A crash or hang fails the whole run; a
/// refusal must name the file and a line for every error. `make fuzz`
/// (docs/reliability.md) is where new inputs come from.
final class FuzzCorpusTests: XCTestCase {
    static let corpus = FixtureFiles.fixture("fuzz-corpus")

    /// Every corpus file, both parsers' inputs alike.
    func corpusFiles() throws -> [URL] {
        let files = try ["config", "keepalived"].flatMap { directory in
            try FileManager.default.contentsOfDirectory(
                at: Self.corpus.appendingPathComponent(directory), includingPropertiesForKeys: nil)
        }
        return files.sorted { $0.path < $1.path }
    }

    /// The problems of one parse; nil when the input was accepted.
    func refusal(_ bytes: [UInt8], file: String, parse: (String) throws(ConfigErrors) -> Void) -> [ConfigProblem]? {
        do {
            try parse(try SourceText.decode(bytes, file: file))
            return nil
        } catch {
            return error.problems
        }
    }

    func testEveryCorpusFileParsesOrIsRefusedWithFileAndLineForEachError() throws {
        let files = try corpusFiles()
        XCTAssertGreaterThanOrEqual(files.count, 20, "the corpus is missing")
        var refused = 0
        for url in files {
            let bytes = try [UInt8](Data(contentsOf: url))
            let name = url.lastPathComponent
            let outcomes = [
                refusal(bytes, file: name) { text throws(ConfigErrors) in _ = try ConfigParser.parse(text, file: name)
                },
                refusal(bytes, file: name) { text throws(ConfigErrors) in
                    _ = try KeepalivedImporter.importConfig(text: text, file: name, configID: "director-1") { path in
                        [(path, text)]
                    }
                },
            ]
            for problems in outcomes.compactMap({ $0 }) {
                let errors = problems.filter { $0.severity == .error }
                XCTAssertFalse(errors.isEmpty, "\(name): refused without an error")
                for error in errors {
                    // An error in an included file names that file.
                    XCTAssertFalse(error.file.isEmpty, "\(name): an error without a file: \(error)")
                    XCTAssertNotNil(error.line, "\(name): an error without a line: \(error)")
                    XCTAssertFalse(error.message.contains("internal error"), "\(name): \(error)")
                }
                refused += 1
            }
        }
        XCTAssertGreaterThan(refused, files.count, "most inputs are refused by at least the other parser")
    }

    func testEveryRegressionInputIsRefusedByItsParser() throws {
        for directory in ["config", "keepalived"] {
            let urls = try FileManager.default.contentsOfDirectory(
                at: Self.corpus.appendingPathComponent(directory), includingPropertiesForKeys: nil)
            for url in urls where url.lastPathComponent.hasPrefix("regression-") {
                let bytes = try [UInt8](Data(contentsOf: url))
                let name = url.lastPathComponent
                let problems = refusal(bytes, file: name) { text throws(ConfigErrors) in
                    if directory == "config" {
                        _ = try ConfigParser.parse(text, file: name)
                    } else {
                        _ = try KeepalivedImporter.importConfig(text: text, file: name, configID: "director-1") {
                            path in [(path, text)]
                        }
                    }
                }
                XCTAssertNotNil(problems, "\(directory)/\(name) was accepted")
            }
        }
    }
}
