// ELF seed for the symbol-loader fuzzer: C++ names (namespaces, classes,
// templates, an anonymous namespace, an operator), no library headers so
// that the binary stays small.
namespace ns {
struct Box {
	int v;
	__attribute__((noinline)) int grow(int by);
	__attribute__((noinline)) Box operator+(const Box &o) const;
};

int Box::grow(int by)
{
	v += by;
	return v;
}

Box Box::operator+(const Box &o) const
{
	return Box{ v + o.v };
}

template <typename T> __attribute__((noinline)) T twice(T x)
{
	return x + x;
}
} // namespace ns

namespace {
__attribute__((noinline)) int hidden(int x)
{
	return x ^ 5;
}
} // namespace

int main(int argc, char **)
{
	ns::Box b{ argc };
	b.grow(3);
	b = b + b;
	return ns::twice(b.v) + (int)ns::twice(2L) + hidden(argc) > 100;
}
