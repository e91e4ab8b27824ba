@testable import ECMPRouting
import Foundation
import XCTest

/// The OSPF key file's gatekeeping: who may read it, what it may be, and
/// that no refusal ever quotes the key.
final class OSPFKeyFileTests: XCTestCase {
    let key = "s3cr3t-Key.42"
    var directory = ""

    override func setUpWithError() throws {
        directory = NSTemporaryDirectory() + "ecmpd-key-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(atPath: directory)
    }

    /// Writes `content` to a file with exactly `mode` (chmod, not the umask).
    func keyFile(_ content: String? = nil, mode: mode_t, name: String = "ospf.key") throws -> String {
        let path = "\(directory)/\(name)"
        try (content ?? key + "\n").write(toFile: path, atomically: false, encoding: .utf8)
        XCTAssertEqual(chmod(path, mode), 0)
        return path
    }

    /// The refusal for `path`, checked to name the file and never the key.
    func refusal(_ path: String, file: StaticString = #filePath, line: UInt = #line) -> String {
        do {
            _ = try OSPFKeyFile.read(path)
            XCTFail("\(path) was accepted", file: file, line: line)
            return ""
        } catch {
            let text = error.description
            XCTAssertTrue(text.hasPrefix("OSPF key file \(path): "), text, file: file, line: line)
            XCTAssertFalse(text.contains(key), "the refusal quotes the key: \(text)", file: file, line: line)
            return text
        }
    }

    func testOwnerOnlyAndGroupReadableFilesAreAccepted() throws {
        XCTAssertEqual(try OSPFKeyFile.read(try keyFile(mode: 0o600)), key)
        // 0640 root:ecmpd (or ecmpd:frr) is how an operator shares it with the daemon.
        XCTAssertEqual(try OSPFKeyFile.read(try keyFile(mode: 0o640)), key)
        XCTAssertEqual(try OSPFKeyFile.read(try keyFile(mode: 0o400)), key)
    }

    func testAWorldReadableFileIsRefusedWithItsMode() throws {
        XCTAssertTrue(refusal(try keyFile(mode: 0o644)).contains("others may read or change it (mode 644)"))
        XCTAssertTrue(refusal(try keyFile(mode: 0o604)).contains("(mode 604)"))
        XCTAssertTrue(refusal(try keyFile(mode: 0o606)).contains("(mode 606)"))
        XCTAssertTrue(refusal(try keyFile(mode: 0o602)).contains("(mode 602)"), "others could replace the key")
    }

    func testASymbolicLinkIsRefusedEvenToAPrivateFile() throws {
        let target = try keyFile(mode: 0o600, name: "real.key")
        let link = "\(directory)/ospf.key"
        XCTAssertEqual(symlink(target, link), 0)
        XCTAssertTrue(refusal(link).contains("is a symbolic link"), refusal(link))
    }

    func testADirectoryOrAFIFOIsRefusedAsNotARegularFile() throws {
        let folder = "\(directory)/keys"
        XCTAssertEqual(mkdir(folder, 0o700), 0)
        XCTAssertTrue(refusal(folder).hasSuffix("not a regular file"), refusal(folder))
        let fifo = "\(directory)/fifo.key"
        XCTAssertEqual(mkfifo(fifo, 0o600), 0)
        // Opened without blocking: nobody writes to this FIFO.
        XCTAssertTrue(refusal(fifo).hasSuffix("not a regular file"), refusal(fifo))
    }

    func testAMissingFileSaysSo() {
        XCTAssertTrue(refusal("\(directory)/absent.key").hasSuffix("No such file or directory"))
    }

    func testABadKeyIsRefusedWithoutQuotingIt() throws {
        // Too long: the key plus more, so the text would contain the key.
        let long = refusal(try keyFile(key + key, mode: 0o600))
        XCTAssertTrue(long.hasSuffix("the key must be 1-16 printable ASCII characters without spaces"), long)
        let spaced = refusal(try keyFile("\(key) \(key)\n", mode: 0o600))
        XCTAssertTrue(spaced.hasSuffix("without spaces"), spaced)
        XCTAssertTrue(refusal(try keyFile("\n", mode: 0o600)).hasSuffix("without spaces"))
        let binary = "\(directory)/binary.key"
        try Data([0x73, 0xff, 0xfe, 0x41]).write(to: URL(fileURLWithPath: binary))
        chmod(binary, 0o600)
        XCTAssertTrue(refusal(binary).hasSuffix("cannot read it as UTF-8 text"))
        let big = refusal(try keyFile(String(repeating: key, count: 1000), mode: 0o600))
        XCTAssertTrue(big.hasSuffix("bytes is not a key (at most 16 characters)"), big)
    }
}
