import FuzzDriver

/// This program's `main` (see `runFuzzDriver` for why each target defines one).
@_cdecl("FuzzRequestHead_main")
public func entryPoint(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>) -> CInt {
    runFuzzDriver(argc, argv) { data, size in fuzzRequestHead(data.map(UnsafeRawPointer.init), size) }
}
