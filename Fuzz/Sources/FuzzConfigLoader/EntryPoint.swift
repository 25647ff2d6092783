import FuzzDriver

/// This program's `main` (see `runFuzzDriver` for why each target defines one).
@_cdecl("FuzzConfigLoader_main")
public func entryPoint(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>) -> CInt {
    runFuzzDriver(argc, argv) { data, size in fuzzConfigLoader(data.map(UnsafeRawPointer.init), size) }
}
