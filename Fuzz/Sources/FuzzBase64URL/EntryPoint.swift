import FuzzDriver

/// This program's `main` (see `runFuzzDriver` for why each target defines one).
@_cdecl("FuzzBase64URL_main")
public func entryPoint(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>) -> CInt {
    runFuzzDriver(argc, argv) { data, size in fuzzBase64URL(data.map(UnsafeRawPointer.init), size) }
}
