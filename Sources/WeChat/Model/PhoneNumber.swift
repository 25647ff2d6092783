/// The `phone_info` of a `getuserphonenumber` answer.
public struct PhoneNumber: Sendable, Equatable {
    /// The number as the user bound it; numbers outside mainland China carry their country code.
    public let phoneNumber: String
    /// The number without country code.
    public let purePhoneNumber: String
    /// WeChat sends it as a string or a number; always a string here.
    public let countryCode: String

    public init(phoneNumber: String, purePhoneNumber: String, countryCode: String) {
        self.phoneNumber = phoneNumber
        self.purePhoneNumber = purePhoneNumber
        self.countryCode = countryCode
    }
}
