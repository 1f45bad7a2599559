using System;
using System.Collections.Generic;
using System.Collections.ObjectModel;
using System.Linq;

namespace MtvRemediation
{
    /// <summary>
    /// A read-only list in an output object that exports as one readable string: Export-Csv and
    /// string conversion call ToString, which joins the items with "; " (an array would print as
    /// System.String[]). It stays a list for the pipeline (Where-Object, -contains, indexing,
    /// ConvertTo-Json writes an array). Length is there for scripts written against arrays.
    /// </summary>
    public sealed class ReadableList<T> : ReadOnlyCollection<T>
    {
        public ReadableList(IEnumerable<T>? items) : base((items ?? Enumerable.Empty<T>()).ToList()) { }

        public int Length => Count;

        public override string ToString() => string.Join("; ", this.Select(i => i?.ToString() ?? string.Empty));

        public static implicit operator ReadableList<T>(T[]? items) => new ReadableList<T>(items);

        public static implicit operator ReadableList<T>(List<T>? items) => new ReadableList<T>(items);
    }
}
