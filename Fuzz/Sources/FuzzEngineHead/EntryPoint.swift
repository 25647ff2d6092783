import FuzzDriver

/// This program's `main` (see `runFuzzDriver` for why each target defines one).
@_cdecl("FuzzEngineHead_main")
public func entryPoint(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>) -> CInt {
    runFuzzDriver(argc, argv) { data, size in fuzzEngineHead(data.map(UnsafeRawPointer.init), size) }
}
