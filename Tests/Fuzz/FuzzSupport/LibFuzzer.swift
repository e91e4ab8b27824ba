import CLibFuzzer
import Glibc

/// libFuzzer as a library (Tests/Fuzz/CLibFuzzer/libfuzzer.h says why):
/// a fuzz target's `main` hands its command line and its one-input test to
/// libFuzzer's driver, which parses the flags, runs the corpus and the
/// mutations, and exits.
public enum LibFuzzer {
    public typealias TestOneInput = @convention(c) (_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt

    public static func run(_ testOneInput: TestOneInput) -> Never {
        var argc = CommandLine.argc
        var argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>? = CommandLine.unsafeArgv
        exit(LLVMFuzzerRunDriver(&argc, &argv, testOneInput))
    }

    /// The input as bytes (libFuzzer may pass a null pointer for size 0).
    public static func bytes(_ data: UnsafePointer<UInt8>?, _ size: Int) -> [UInt8] {
        data.map { Array(UnsafeBufferPointer(start: $0, count: size)) } ?? []
    }
}
