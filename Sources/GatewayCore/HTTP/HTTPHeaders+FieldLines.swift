import NIOHTTP1

extension HTTPHeaders {
    /// The first value of the field `lowercasedName` and how many lines carry it. Whole field lines, not
    /// `canonicalForm` (which splits on commas and drops empty values, so an empty second line would go unseen),
    /// and without the array the subscript builds: this runs several times per request.
    func fieldLines(_ lowercasedName: String) -> (first: String?, count: Int) {
        var first: String?
        var count = 0
        for (name, value) in self where ASCIICase.equals(name, lowercasedName) {
            if first == nil { first = value }
            count += 1
        }
        return (first, count)
    }
}
