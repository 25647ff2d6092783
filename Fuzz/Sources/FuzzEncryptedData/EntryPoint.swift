import FuzzDriver

/// This program's `main` (see `runFuzzDriver` for why each target defines one).
@_cdecl("FuzzEncryptedData_main")
public func entryPoint(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>) -> CInt {
    runFuzzDriver(argc, argv) { data, size in fuzzEncryptedData(data.map(UnsafeRawPointer.init), size) }
}
