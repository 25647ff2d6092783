import Foundation
@testable import WeChat

/// The encrypted-data decryptor: the input is split at NUL bytes into encryptedData, iv, session_key, rawData and
/// signature. It must answer a value or a typed error, never crash; a result is only ever returned with the app's
/// watermark.
private let decryptor = EncryptedDataDecryptor(appID: "wx0000000000000001")

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzEncryptedData(_ start: UnsafeRawPointer?, _ count: Int) -> CInt {
    let bytes = start.map { Array(UnsafeRawBufferPointer(start: $0, count: count)) } ?? []
    var fields = bytes.split(separator: 0, omittingEmptySubsequences: false).map { String(decoding: $0, as: UTF8.self) }
    while fields.count < 3 { fields.append("") }
    do {
        let data = try decryptor.decrypt(
            encryptedData: fields[0], iv: fields[1], sessionKey: fields[2],
            rawData: fields.count > 3 ? fields[3] : nil, signature: fields.count > 4 ? fields[4] : nil)
        precondition(data.value["watermark"]?["appid"]?.stringValue == "wx0000000000000001")
    } catch {
        _ = error.description
    }
    return 0
}
