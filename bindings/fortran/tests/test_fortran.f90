! test_fortran.f90: the Fortran binding end to end, exact results: maps over integer, integer(8),
! real(8) and mixed arrays, byte buffers, apply, a failing item, options, close/join/free, error
! codes against the C library. Runs plainly and unchanged under mpirun (ranks > 0 serve).
module test_tasks
  use, intrinsic :: iso_c_binding
  use ppool
  implicit none
  integer(c_int64_t) :: init_seen = -1
contains
  integer(c_int) function square_i(task, x, len) bind(C)
    type(c_ptr), value :: task
    integer(c_int), intent(in) :: x
    integer(c_size_t), value :: len
    square_i = ppool_task_return(task, x * x)
  end function

  integer(c_int) function square_d(task, x, len) bind(C)
    type(c_ptr), value :: task
    real(c_double), intent(in) :: x
    integer(c_size_t), value :: len
    square_d = ppool_task_return(task, x * x)
  end function

  integer(c_int) function cube_l(task, x, len) bind(C)
    type(c_ptr), value :: task
    integer(c_int64_t), intent(in) :: x
    integer(c_size_t), value :: len
    cube_l = ppool_task_return(task, x * x * x)
  end function

  ! integer -> real(8): an item type and a result type of their own.
  integer(c_int) function half(task, x, len) bind(C)
    type(c_ptr), value :: task
    integer(c_int), intent(in) :: x
    integer(c_size_t), value :: len
    half = ppool_task_return(task, real(x, c_double) / 2)
  end function

  ! The C signature itself (registered as a procedure(ppool_fn)): fails on 7, naming it.
  integer(c_int) function unlucky(task, arg, len) bind(C)
    type(c_ptr), value :: task, arg
    integer(c_size_t), value :: len
    integer(c_int), pointer :: x
    character(len=32) :: msg
    if (len /= c_sizeof(0_c_int)) then
      unlucky = ppool_task_fail(task, "expected one integer(c_int)")
      return
    end if
    call c_f_pointer(arg, x)
    if (x == 7) then
      write (msg, '("unlucky number ", i0)') x
      unlucky = ppool_task_fail(task, msg)
    else
      unlucky = ppool_task_return(task, x + 100_c_int)
    end if
  end function

  ! Bytes in, bytes out: ASCII upper case.
  integer(c_int) function upper(task, arg, len) bind(C)
    type(c_ptr), value :: task, arg
    integer(c_size_t), value :: len
    character(len=len) :: s
    integer :: i
    s = ppool_string(arg, len)
    do i = 1, len_trim(s)
      if (s(i:i) >= 'a' .and. s(i:i) <= 'z') s(i:i) = achar(iachar(s(i:i)) - 32)
    end do
    upper = ppool_task_return(task, s)
  end function

  ! An array argument: its sum.
  integer(c_int) function total(task, arg, len) bind(C)
    type(c_ptr), value :: task, arg
    integer(c_size_t), value :: len
    integer(c_int), pointer :: x(:)
    call c_f_pointer(arg, x, [len / c_sizeof(0_c_int)])
    total = ppool_task_return(task, sum(x))
  end function

  ! An array result: [x, 2x, 3x] of real(8).
  integer(c_int) function triple(task, x, len) bind(C)
    type(c_ptr), value :: task
    real(c_double), intent(in) :: x
    integer(c_size_t), value :: len
    triple = ppool_task_return(task, [x, 2 * x, 3 * x])
  end function

  integer(c_int) function position(task, arg, len) bind(C)
    type(c_ptr), value :: task, arg
    integer(c_size_t), value :: len
    position = ppool_task_return(task, int(ppool_task_index(task), c_int64_t))
  end function

  integer(c_int) function nothing(task, arg, len) bind(C)
    type(c_ptr), value :: task, arg
    integer(c_size_t), value :: len
    nothing = 0
  end function

  integer(c_int) function init(task, seed, len) bind(C)
    type(c_ptr), value :: task
    integer(c_int64_t), intent(in) :: seed
    integer(c_size_t), value :: len
    init_seen = seed
    init = 0
  end function

  integer(c_int) function probe(task, arg, len) bind(C)
    type(c_ptr), value :: task, arg
    integer(c_size_t), value :: len
    probe = ppool_task_return(task, init_seen)
  end function
end module test_tasks

program test_fortran
  use, intrinsic :: iso_c_binding
  use ppool
  use test_tasks
  implicit none
  type(ppool_pool) :: pool
  logical :: served = .false.
  character(len=:), allocatable :: on

  call registry()
  call error_codes()
  if (open_pool(pool)) then
    on = ppool_transport(pool)
    call maps()
    call failures()
    call bytes_and_apply()
    call lifecycle()
  end if
  call options()
  call spawned()
  if (.not. served) print '("test_fortran: ok on ", a)', on
  if (allocated(on)) deallocate(on) ! the main program's variables are never freed otherwise

contains

  subroutine check(ok, what)
    logical, intent(in) :: ok
    character(*), intent(in) :: what
    if (ok) return
    write (0, '("test_fortran: FAILED: ", a, " (last detail: ", a, ")")') what, ppool_errmsg(pool)
    error stop 1
  end subroutine

  ! Opens with any options, SPMD: .false. on a process that served (ranks > 0, spawned workers).
  logical function open_pool(p, workers, chunksize, start) result(master)
    type(ppool_pool), intent(out) :: p
    integer, intent(in), optional :: workers, chunksize
    character(*), intent(in), optional :: start
    integer(c_int) :: rc
    rc = ppool_open(p, workers=workers, chunksize=chunksize, start=start)
    served = served .or. rc == PPOOL_WORKER
    master = rc == 0
    if (rc /= PPOOL_WORKER) call check(rc == 0, "ppool_open: "//ppool_errmsg())
  end function

  subroutine registry()
    call check(ppool_register("square_i", c_funloc(square_i)) == 0, "register square_i")
    call check(ppool_register("square_d", c_funloc(square_d)) == 0, "register square_d")
    call check(ppool_register("cube_l", c_funloc(cube_l)) == 0, "register cube_l")
    call check(ppool_register("half", c_funloc(half)) == 0, "register half")
    call check(ppool_register("unlucky", unlucky) == 0, "register a procedure(ppool_fn)")
    call check(ppool_register("upper", upper) == 0, "register upper")
    call check(ppool_register("total", total) == 0, "register total")
    call check(ppool_register("triple", c_funloc(triple)) == 0, "register triple")
    call check(ppool_register("position", position) == 0, "register position")
    call check(ppool_register("nothing", nothing) == 0, "register nothing")
    call check(ppool_register("init", c_funloc(init)) == 0, "register init")
    call check(ppool_register("probe", probe) == 0, "register probe")
    call check(ppool_register("square_i", nothing) == PPOOL_EINVAL, "a name registered twice")
    call check(index(ppool_errmsg(), "square_i") > 0, "register's message names it")
  end subroutine

  ! The module's constants are the C library's: every code has its name, none is missing.
  subroutine error_codes()
    integer(c_int) :: c, known
    call check(ppool_errname(PPOOL_EINVAL) == "PPOOL_EINVAL", "EINVAL")
    call check(ppool_errname(PPOOL_ENOMEM) == "PPOOL_ENOMEM", "ENOMEM")
    call check(ppool_errname(PPOOL_ETASK) == "PPOOL_ETASK", "ETASK")
    call check(ppool_errname(PPOOL_EWORKER) == "PPOOL_EWORKER", "EWORKER")
    call check(ppool_errname(PPOOL_ETIMEDOUT) == "PPOOL_ETIMEDOUT", "ETIMEDOUT")
    call check(ppool_errname(PPOOL_ECLOSED) == "PPOOL_ECLOSED", "ECLOSED")
    call check(ppool_errname(PPOOL_ENOFUNC) == "PPOOL_ENOFUNC", "ENOFUNC")
    call check(ppool_errname(PPOOL_EPROTO) == "PPOOL_EPROTO", "EPROTO")
    call check(ppool_errname(PPOOL_ETRANSPORT) == "PPOOL_ETRANSPORT", "ETRANSPORT")
    call check(ppool_errname(PPOOL_EDONE) == "PPOOL_EDONE", "EDONE")
    call check(ppool_errname(PPOOL_ESYS) == "PPOOL_ESYS", "ESYS")
    known = 0
    do c = -1, -1000, -1
      if (ppool_errname(c) /= "PPOOL_EUNKNOWN") known = known + 1
      if (ppool_errname(c) /= "PPOOL_EUNKNOWN") call check(any(PPOOL_ERRORS == c), ppool_errname(c))
    end do
    call check(known == size(PPOOL_ERRORS), "PPOOL_ERRORS lists every code")
    call check(ppool_strerror(PPOOL_ETASK) == "task failed", "strerror")
    call check(ppool_strerror(0) == "success", "strerror(0)")
    call check(PPOOL_WORKER == 1 .and. PPOOL_NO_RETRIES == 4, "PPOOL_WORKER, flags")
    call check(ppool_version() == PPOOL_VERSION_STRING, "version "//ppool_version())
    call check(ppool_cpu_count() >= 1, "cpu count")
  end subroutine

  subroutine maps()
    integer, parameter :: n = 1000
    integer(c_int) :: i4(n), o4(n), short(3)
    integer(c_int64_t) :: i8(n), o8(n)
    real(c_double), target :: d(n), tri(3, 4)
    real(c_double) :: od(n), h(n)
    integer(c_size_t) :: pos(7)
    type(ppool_buf) :: bufs(2)
    integer :: i
    i4 = [(i, i = 1, n)]
    i8 = [(int(i, c_int64_t) * 1000, i = 1, n)]
    d = [(i * 0.25d0, i = 1, n)]
    call check(ppool_map(pool, "square_i", i4, o4) == 0, "map integer(c_int)")
    call check(all(o4 == i4 * i4), "integer squares")
    call check(ppool_map(pool, "cube_l", i8, o8) == 0, "map integer(c_int64_t)")
    call check(all(o8 == i8 * i8 * i8), "integer(8) cubes")
    call check(ppool_map(pool, "square_d", d, od) == 0, "map real(c_double)")
    call check(all(od == d * d), "real(8) squares")
    call check(ppool_map(pool, "half", i4, h) == 0, "map integer -> real(8)")
    call check(all(h == i4 / 2d0), "halves")
    call check(ppool_map(pool, "square_i", i4(1:0), o4(1:0)) == 0, "an empty map")
    call check(ppool_map(pool, "square_i", i4(1:n:2), o4(1:n / 2)) == PPOOL_EINVAL, "strided")
    call check(index(ppool_errmsg(pool), "in is not contiguous") > 0, "says so")
    call check(ppool_map(pool, "square_i", i4(11:20), o4(1:10)) == 0, "a contiguous section")
    call check(all(o4(1:10) == i4(11:20)**2), "its squares")
    call check(ppool_map(pool, "position", i4(1:7), pos) == 0, "task index")
    call check(all(pos == [1, 2, 3, 4, 5, 6, 7]), "task index counts from 1")
    ! The c_ptr form: items of any size (here one real(8) in, three out).
    call check(ppool_map(pool, "triple", c_loc(d), 4_c_size_t, c_sizeof(d(1)), c_loc(tri), &
                         3 * c_sizeof(tri(1, 1))) == 0, "map over c_ptr")
    call check(all(tri(3, :) == 3 * d(1:4)) .and. all(tri(1, :) == d(1:4)), "rows of triple")
    call check(ppool_map(pool, "square_i", i4(1:5), short) == PPOOL_EINVAL, "out too small")
    call check(index(ppool_errmsg(pool), "out has 3 elements for 5 items") > 0, "its message")
    call check(ppool_map(pool, "square_i", bufs, o4(1:2)) == PPOOL_EINVAL, "a derived type")
    call check(index(ppool_errmsg(pool), "in is of a type the binding does not pass") > 0, "why")
    call check(ppool_map(pool, "nope", i4, o4) == PPOOL_ENOFUNC, "an unknown function")
    call check(index(ppool_errmsg(pool), "nope") > 0, "message names it")
  end subroutine

  subroutine failures()
    integer(c_int) :: in(20), out(20), st(4)
    integer(c_size_t) :: idx(4)
    integer :: i
    in = [(i, i = 1, 20)]
    in(15) = 7
    call check(ppool_map(pool, "unlucky", in, out) == PPOOL_ETASK, "a failing item")
    call check(index(ppool_errmsg(pool), "item 6 (unlucky): unlucky number 7") > 0, &
               "the message names the item (from 0, as C counts) and says why")
    call check(out(7) == 0 .and. out(15) == 0, "failed items' results are zero")
    call check(all(pack(out, in /= 7) == pack(in, in /= 7) + 100), "the other items")
    call check(ppool_map_failed(pool, idx, st) == 2, "two failed items")
    call check(idx(1) == 7 .and. idx(2) == 15, "their positions, from 1")
    call check(all(st(1:2) == PPOOL_ETASK), "their codes")
    call check(ppool_map_failed(pool) == 2, "count only")
    call check(ppool_map(pool, "unlucky", in(1:3), out(1:3)) == 0, "then a map that succeeds")
    call check(ppool_map_failed(pool, idx) == 0, "no failed item")
  end subroutine

  subroutine bytes_and_apply()
    type(ppool_buf) :: words(4), up(4), r
    integer(c_int) :: x
    integer(c_int64_t) :: big
    real(c_double) :: three(3)
    character(len=8) :: s
    ! element by element: gfortran 12 leaks an array constructor of types with allocatable parts
    words(1)%data = "hello"
    words(2)%data = ""
    words(3)%data = "Fortran 2018"
    words(4)%data = "a"//achar(0)//"b"
    call check(ppool_map_bufs(pool, "upper", words, up) == 0, "map_bufs")
    call check(up(1)%data == "HELLO" .and. len(up(2)%data) == 0, "upper bytes")
    call check(up(3)%data == "FORTRAN 2018" .and. up(4)%data == "A"//achar(0)//"B", "any bytes")
    call check(ppool_map_bufs(pool, "upper", words, up(1:2)) == PPOOL_EINVAL, "bufs out too small")
    call check(ppool_apply(pool, "square_i", 9_c_int, x) == 0 .and. x == 81, "apply, integer")
    call check(ppool_apply(pool, "total", [3_c_int, 4_c_int, 5_c_int], x) == 0 .and. x == 12, &
               "apply over an array")
    call check(ppool_apply(pool, "upper", "abc", r) == 0 .and. r%data == "ABC", "apply, bytes")
    call check(ppool_apply(pool, "upper", "abc", s) == 0 .and. s == "ABC", "apply, a string")
    call check(ppool_apply(pool, "triple", 2d0, r) == 0 .and. len(r%data) == 24, "a 24-byte result")
    three = transfer(r%data, three)
    call check(all(three == [2d0, 4d0, 6d0]), "decoded with transfer")
    call check(ppool_apply(pool, "square_i", 9_c_int, big) == PPOOL_EINVAL, "a result of 8 bytes")
    call check(index(ppool_errmsg(pool), "4 bytes for a 8-byte variable") > 0, "says so")
    call check(ppool_apply(pool, "nothing", "") == 0, "apply, no argument, no result")
    call check(ppool_apply(pool, "nope", 1_c_int) == PPOOL_ENOFUNC, "apply unknown")
    call check(ppool_apply(pool, "unlucky", 7_c_int, x) == PPOOL_ETASK, "apply failing")
    call check(index(ppool_errmsg(pool), "unlucky number 7") > 0, "apply's message")
  end subroutine

  subroutine lifecycle()
    integer(c_int) :: x
    call check(ppool_size(pool) >= 1, "a size")
    call check(ppool_close(pool) == 0, "close")
    call check(ppool_apply(pool, "square_i", 2_c_int, x) == PPOOL_ECLOSED, "closed")
    call check(ppool_join(pool) == 0, "join")
    call ppool_free(pool)
    call ppool_free(pool) ! no pool: fine
  end subroutine

  ! Options: two workers, one item a chunk, an initializer with its argument, a timeout.
  subroutine options()
    integer(c_int64_t) :: in(12), out(12)
    integer(c_int) :: rc
    rc = ppool_open(pool, workers=2, chunksize=1, initializer="init", initarg=31337_c_int64_t, &
                    retries=1, task_timeout=30, start="fork")
    served = served .or. rc == PPOOL_WORKER
    if (rc == PPOOL_WORKER) return
    call check(rc == 0, "open with options: "//ppool_errmsg())
    call check(ppool_size(pool) == 2, "two workers")
    call check(ppool_map(pool, "probe", in, out) == 0, "map probe")
    call check(all(out == 31337), "the initializer ran with its argument")
    call ppool_free(pool)
    if (on /= "mpi") then ! each process checks its own options: no rank waits on another
      call check(ppool_open(pool, transport="bogus") == PPOOL_EINVAL, "a bad transport")
      call check(index(ppool_errmsg(), "bogus") > 0, "its message")
      call check(ppool_open(pool, retries=-1) == PPOOL_EINVAL, "negative retries")
      call check(index(ppool_errmsg(), "must not be negative") > 0, "the binding's message")
      call check(ppool_open(pool, task_timeout=(1, 1)) == PPOOL_EINVAL, "a complex timeout")
    end if
  end subroutine

  ! start = "spawn": the workers run this program again and serve from its first ppool_open.
  subroutine spawned()
    type(ppool_pool) :: q
    integer(c_int) :: in(50), out(50)
    integer :: i
    if (.not. open_pool(q, workers=2, start="spawn")) return
    in = [(i, i = 1, 50)]
    call check(ppool_map(q, "square_i", in, out) == 0, "map on spawned workers")
    call check(all(out == in * in), "spawned squares")
    call check(ppool_terminate(q) == 0, "terminate")
    call check(ppool_map(q, "square_i", in, out) == PPOOL_ECLOSED, "terminated")
    call ppool_free(q)
  end subroutine
end program test_fortran
