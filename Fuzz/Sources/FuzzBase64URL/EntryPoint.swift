/// SwiftPM links every executable with `--defsym main=FuzzBase64URL_main`, a symbol that `-parse-as-library` never emits
/// (swiftlang/swift-package-manager#4522). Defining it here makes it the program's `main`, which hands control to
/// libFuzzer's own driver, so the binary takes libFuzzer's usual flags and corpus directories.
@_cdecl("FuzzBase64URL_main")
public func entryPoint(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>) -> CInt {
    var count = argc
    var arguments: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>? = argv
    return LLVMFuzzerRunDriver(&count, &arguments) { data, size in
        fuzzBase64URL(data.map(UnsafeRawPointer.init), size)
    }
}

/// libFuzzer's entry for programs with their own `main` (LLVM 11 and later).
@_silgen_name("LLVMFuzzerRunDriver")
func LLVMFuzzerRunDriver(
    _ argc: UnsafeMutablePointer<CInt>,
    _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>,
    _ callback: @convention(c) (UnsafePointer<UInt8>?, Int) -> CInt
) -> CInt

