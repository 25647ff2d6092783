/// Hands a fuzz target's program over to libFuzzer's own driver, so every target binary takes libFuzzer's usual
/// flags and corpus directories.
///
/// Why each target still has an `EntryPoint.swift`: SwiftPM links every executable with
/// `--defsym main=<Target>_main`, a symbol that `-parse-as-library` never emits
/// (swiftlang/swift-package-manager#4522), so each target defines its own `@_cdecl("<Target>_main")` and calls this.
public func runFuzzDriver(
    _ argc: CInt,
    _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>,
    _ testOneInput: @convention(c) (UnsafePointer<UInt8>?, Int) -> CInt
) -> CInt {
    var count = argc
    var arguments: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>? = argv
    return LLVMFuzzerRunDriver(&count, &arguments, testOneInput)
}

/// libFuzzer's entry for programs with their own `main` (LLVM 11 and later).
@_silgen_name("LLVMFuzzerRunDriver")
func LLVMFuzzerRunDriver(
    _ argc: UnsafeMutablePointer<CInt>,
    _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>,
    _ callback: @convention(c) (UnsafePointer<UInt8>?, Int) -> CInt
) -> CInt
