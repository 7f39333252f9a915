// `std::visit(Overload{[](const A&) {...}, [](const B&) {...}}, v)`: the
// compiler then reports any alternative a visitor forgets.
#ifndef QM_COMPILER_SOURCE_OVERLOAD_H_
#define QM_COMPILER_SOURCE_OVERLOAD_H_

namespace qm {

template <class... F>
struct Overload : F... {
  using F::operator()...;
};
template <class... F>
Overload(F...) -> Overload<F...>;

}  // namespace qm

#endif  // QM_COMPILER_SOURCE_OVERLOAD_H_
